"""A router that keeps the canary weight in a file: for a proxy that re-reads its weight from disk."""

from pathlib import Path


class WeightFileRouter:
    def __init__(self, values: dict | None = None, context: dict | None = None, **_):
        settings = (values or {}).get("weightFile") or {}
        self.path = Path(settings.get("path") or (context or {}).get("path") or "canary-weight")

    def get_weight(self) -> int:
        return int(self.path.read_text()) if self.path.exists() else 0

    def set_weight(self, weight: int) -> None:
        if not 0 <= weight <= 100:
            raise ValueError(f"weight {weight} is not a percentage")
        self.path.write_text(str(weight))
