"""Decoding the Kubernetes protobuf request bodies that helm's typed clientset sends.

client-go's clientsets write built-in objects as `application/vnd.kubernetes.protobuf`: the magic
bytes `k8s\\0`, then a runtime.Unknown envelope {typeMeta, raw} whose `raw` is the object's message.
Helm writes Secrets (its release storage), ConfigMaps (the configmap driver) and Namespaces
(--create-namespace) this way; those are the messages known here. Responses are always JSON, which
client-go accepts. Another type in protobuf gets 415 with its kind named.
"""

from __future__ import annotations

import base64
import datetime

from tests.support.kubeapi.errors import bad_request, unsupported_media_type

MAGIC = b"k8s\x00"

TIME = {1: ("seconds", "int"), 2: ("nanos", "int")}
OWNER_REFERENCE = {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"), 5: ("apiVersion", "string"),
                   6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")}
OBJECT_META = {
    1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"), 5: ("uid", "string"),
    6: ("resourceVersion", "string"), 7: ("generation", "int"), 8: ("creationTimestamp", ("time", TIME)),
    9: ("deletionTimestamp", ("time", TIME)), 10: ("deletionGracePeriodSeconds", "int"),
    11: ("labels", ("map", "string")), 12: ("annotations", ("map", "string")),
    13: ("ownerReferences", ("repeated", ("message", OWNER_REFERENCE))), 14: ("finalizers", ("repeated", "string")),
}
MESSAGES = {
    ("v1", "Secret"): {1: ("metadata", ("message", OBJECT_META)), 2: ("data", ("map", "base64")),
                       3: ("type", "string"), 4: ("stringData", ("map", "string")), 5: ("immutable", "bool")},
    ("v1", "ConfigMap"): {1: ("metadata", ("message", OBJECT_META)), 2: ("data", ("map", "string")),
                          3: ("binaryData", ("map", "base64")), 4: ("immutable", "bool")},
    ("v1", "Namespace"): {1: ("metadata", ("message", OBJECT_META)),
                          2: ("spec", ("message", {1: ("finalizers", ("repeated", "string"))})),
                          3: ("status", ("message", {1: ("phase", "string")}))},
}
DELETE_OPTIONS = {1: ("gracePeriodSeconds", "int"),
                  2: ("preconditions", ("message", {1: ("uid", "string"), 2: ("resourceVersion", "string")})),
                  3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"), 5: ("dryRun", ("repeated", "string"))}
MESSAGES.update({(api_version, "DeleteOptions"): DELETE_OPTIONS for api_version in ("v1", "meta.k8s.io/v1")})
UNKNOWN = {1: ("typeMeta", ("message", {1: ("apiVersion", "string"), 2: ("kind", "string")})), 2: ("raw", "raw")}


def decode(body: bytes) -> dict:
    """A protobuf-encoded object as the JSON-shaped dict the store takes."""
    if not body.startswith(MAGIC):
        raise bad_request("a protobuf body must start with the Kubernetes magic bytes k8s\\0")
    envelope = _message(body[len(MAGIC):], UNKNOWN)
    type_meta = envelope.get("typeMeta") or {}
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    schema = MESSAGES.get((api_version, kind))
    if schema is None:
        raise unsupported_media_type(f"application/vnd.kubernetes.protobuf for {api_version} {kind} "
                                     "(this test server decodes protobuf only for v1 Secret, ConfigMap, Namespace and DeleteOptions)")
    obj = _message(envelope.get("raw", b""), schema)
    return {"apiVersion": api_version, "kind": kind, **obj}


def _varint(data: bytes, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7


def _fields(data: bytes):
    """(field number, wire type, value) of each field; value is an int or bytes."""
    position = 0
    while position < len(data):
        tag, position = _varint(data, position)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, position = _varint(data, position)
        elif wire == 2:
            length, position = _varint(data, position)
            value, position = data[position:position + length], position + length
        elif wire == 1:
            value, position = int.from_bytes(data[position:position + 8], "little"), position + 8
        elif wire == 5:
            value, position = int.from_bytes(data[position:position + 4], "little"), position + 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _message(data: bytes, schema: dict) -> dict:
    result: dict = {}
    for number, _, value in _fields(data):
        if number not in schema:
            continue
        name, kind = schema[number]
        if isinstance(kind, tuple) and kind[0] == "repeated":
            result.setdefault(name, []).append(_scalar(value, kind[1]))
        elif isinstance(kind, tuple) and kind[0] == "map":
            entry = {n: v for n, _, v in _fields(value)}
            result.setdefault(name, {})[_scalar(entry.get(1, b""), "string")] = _scalar(entry.get(2, b""), kind[1])
        else:
            result[name] = _scalar(value, kind)
    return result


def _scalar(value, kind):
    if kind == "string":
        return value.decode()
    if kind == "base64":
        return base64.b64encode(value).decode()
    if kind == "raw":
        return value
    if kind == "int":
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "bool":
        return bool(value)
    if kind[0] == "time":
        seconds = _message(value, kind[1]).get("seconds", 0)
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind[0] == "message":
        return _message(value, kind[1])
    raise ValueError(f"unknown field kind {kind!r}")
