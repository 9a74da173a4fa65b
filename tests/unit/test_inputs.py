"""mlplatform.inputs: hostile JSON and YAML are refused quickly with the limit named; ordinary documents load."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from mlplatform.inputs import (
    BodyLimit,
    InputRejected,
    Limits,
    load_document,
    load_json,
    load_yaml,
    load_yaml_documents,
    parse_off_loop,
)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, levels):
        previous, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{','.join('*' + previous for _ in range(9))}]")
    return "\n".join(lines) + "\n"


def test_a_500_byte_billion_laughs_is_refused_at_once():
    bomb = billion_laughs()
    assert len(bomb) < 700
    started = time.monotonic()
    with pytest.raises(InputRejected, match="alias bomb|more than 100 YAML aliases"):
        load_yaml(bomb)
    assert time.monotonic() - started < 0.5


def test_a_few_honest_aliases_load():
    document = load_yaml("base: &base {cpu: 1}\nworker: *base\nps: *base\n")
    assert document["worker"] == document["ps"] == {"cpu": 1}


def test_too_many_aliases_are_refused_with_the_limit_named():
    text = "a: &a x\nb: [" + ", ".join(["*a"] * 20) + "]\n" + "c: " + "y" * 1000 + "\n"
    with pytest.raises(InputRejected, match="more than 10 YAML aliases"):
        load_yaml(text, Limits(max_aliases=10))


@pytest.mark.parametrize("loader", [load_json, load_document])
def test_json_nested_1000_deep_is_refused(loader):
    with pytest.raises(InputRejected, match="nested deeper than the limit of 64 levels") as refused:
        loader("[" * 1000 + "]" * 1000)
    assert refused.value.status == 400


def test_yaml_nested_deeper_than_the_limit_is_refused():
    with pytest.raises(InputRejected, match="nested deeper"):
        load_yaml("a:\n" + "".join("  " * depth + "- \n" for depth in range(1, 80)))
    with pytest.raises(InputRejected, match="nested deeper"):
        load_yaml("[" * 1000 + "]" * 1000)


def test_size_over_the_limit_is_413():
    with pytest.raises(InputRejected, match="over the limit of 10 bytes") as refused:
        load_document(b'{"a": "0123456789"}', Limits(max_bytes=10))
    assert refused.value.status == 413


def test_json_and_yaml_documents_load():
    assert load_document(b'{"kind": "Experiment", "spec": {"maxTrialCount": 3}}')["spec"]["maxTrialCount"] == 3
    assert load_document(b"{kind: Experiment}") == {"kind": "Experiment"}     # flow YAML, not JSON
    assert load_document("kind: Experiment\nspec: {}\n") == {"kind": "Experiment", "spec": {}}
    assert load_yaml_documents("a: 1\n---\nb: 2\n---\n") == [{"a": 1}, {"b": 2}]
    with pytest.raises(InputRejected, match="one YAML document, not 2"):
        load_yaml("a: 1\n---\nb: 2\n")
    with pytest.raises(InputRejected, match="not valid YAML"):
        load_yaml("a: [1, 2\n")


def test_a_slow_parse_is_given_up_after_the_time_budget():
    async def slow():
        return await parse_off_loop(time.sleep, 2, limits=Limits(parse_seconds=0.2))

    started = time.monotonic()
    with pytest.raises(InputRejected, match="longer than the limit of 0.2s"):
        asyncio.run(slow())
    assert time.monotonic() - started < 1.5


def test_body_limit_refuses_big_bodies_and_lets_others_through():
    app = FastAPI()

    @app.post("/{path:path}")
    async def echo(request: Request):
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimit, default=100, limits={"/upload": 1000})
    client = TestClient(app)
    assert client.post("/small", content=b"x" * 100).json() == {"bytes": 100}
    refused = client.post("/small", content=b"x" * 101)
    assert refused.status_code == 413 and "over the limit of 100 bytes" in refused.json()["error"]
    assert client.post("/upload/file", content=b"x" * 1000).json() == {"bytes": 1000}
    chunked = client.post("/small", content=iter([b"x" * 60, b"x" * 60]))   # no Content-Length: counted
    assert chunked.status_code == 413


def test_body_limit_refuses_deep_json_before_the_framework_parses_it():
    app = FastAPI()

    @app.post("/items")
    def create(body: dict):   # FastAPI's own json.loads would recurse on this body
        return {"keys": sorted(body)}

    app.add_middleware(BodyLimit, default=100_000, max_depth=10)
    client = TestClient(app)
    deep = '{"a":' * 1000 + "1" + "}" * 1000
    refused = client.post("/items", content=deep, headers={"content-type": "application/json"})
    assert refused.status_code == 400 and "nested deeper than the limit of 10 levels" in refused.json()["error"]
    assert client.post("/items", json={"a": {"b": 1}}).json() == {"keys": ["a"]}
    not_json = client.post("/items", content="{oops", headers={"content-type": "application/json"})
    assert not_json.status_code == 422   # not a depth problem: the app answers in its own words


def test_unprintable_yaml_is_refused_as_not_valid_yaml():
    with pytest.raises(InputRejected, match="not valid YAML: unacceptable character #x001f"):
        load_document(b"\x1f\x8b gzip bytes")
