#!/usr/bin/env python3
"""A schema registry stand-in for tests: the subset of Confluent's REST API that the kernel's
registry client, confluent-kafka-python's SchemaRegistryClient and
@kafkajs/confluent-schema-registry call. No registry server is packaged for these machines;
this is a test fixture, not a registry (state lives in memory, one process).

Routes (bodies JSON, errors {"error_code": n, "message": text} as Confluent answers them):
  POST /subjects/{s}/versions          register: {"id"}; the same schema again gets its id back;
                                       409 (error_code 409) when incompatible with the subject
  POST /subjects/{s}                   look up a schema in a subject: {subject, id, version, schema}
  GET  /schemas/ids/{id}               {schema, schemaType (not for AVRO), references}
  GET  /subjects                       names
  GET  /subjects/{s}/versions          version numbers
  GET  /subjects/{s}/versions/{v|latest}
  POST /compatibility/subjects/{s}/versions/{v|latest}   {"is_compatible"} by the rule below
  GET|PUT /config, /config/{s}         {"compatibilityLevel"} / {"compatibility"}
  PUT  /_standin/outage                test control: {"status": 503} answers every other request
                                       with that status until {"status": 0}

Compatibility (a stand-in's simple rule, not Confluent's full checker): with a level other than
NONE, a new version may add fields but may not remove one or change one's type, compared with
the latest version (every version for the *_TRANSITIVE levels). Fields are keyed by record and
name for AVRO (a JSON schema), and by message and field number for PROTOBUF (.proto text, or a
base64 FileDescriptorProto as confluent-kafka-python 1.7 registers, read when
google.protobuf is installed). Other types are not checked.

Usage: schema_registry_standin.py [--port 0] [--port-file F] [--user U --password P]
Prints "listening on http://127.0.0.1:<port>" on stdout once it accepts connections.
"""

import argparse
import base64
import binascii
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

MAX_BODY = 1 << 20  # a schema bigger than 1 MiB is refused (422)
LEVELS = {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
          "FULL_TRANSITIVE"}


class RegistryError(Exception):
    def __init__(self, status, error_code, message):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


def _proto_text_fields(text):
    """{(message path, field number): type} from .proto text: enough for the rule above."""
    fields = {}
    stack = []
    tokens = re.finditer(r"\bmessage\s+(\w+)\s*\{|\b(?:oneof|enum|service|extend)\s+\w+\s*\{|\{|\}|"
                         r"(?:(?:optional|required|repeated)\s+)?([\w.]+(?:\s*<[^>]*>)?)\s+(\w+)\s*=\s*(\d+)",
                         re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S))
    for token in tokens:
        whole = token.group(0)
        if token.group(1):
            stack.append(token.group(1))
        elif whole.endswith("{"):
            stack.append(None)  # a block that is not a message: its fields belong to the message
        elif whole == "}":
            if stack:
                stack.pop()
        elif token.group(4) and stack:
            path = ".".join(name for name in stack if name)
            if token.group(2) not in ("option", "reserved"):
                fields[(path, int(token.group(4)))] = re.sub(r"\s+", "", token.group(2))
    return fields


def _proto_descriptor_fields(encoded):
    try:
        from google.protobuf import descriptor_pb2
    except ImportError:
        return None
    try:
        proto = descriptor_pb2.FileDescriptorProto.FromString(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError, Exception):  # noqa: B014 - DecodeError has no stable import
        return None
    fields = {}

    def walk(messages, prefix):
        for message in messages:
            path = prefix + message.name
            for field in message.field:
                fields[(path, field.number)] = field.type_name or str(field.type)
            walk(message.nested_type, path + ".")

    walk(proto.message_type, "")
    return fields


def _avro_fields(text):
    try:
        schema = json.loads(text)
    except ValueError:
        return None
    fields = {}

    def walk(node):
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if node.get("type") == "record":
                for field in node.get("fields", []):
                    fields[(node.get("name"), field.get("name"))] = json.dumps(field.get("type"), sort_keys=True)
                    walk(field.get("type"))
            elif "items" in node:
                walk(node["items"])
            elif "values" in node:
                walk(node["values"])

    walk(schema)
    return fields


def schema_fields(schema_type, text):
    """The fields the compatibility rule compares, or None when the stand-in cannot read them."""
    if schema_type == "AVRO":
        return _avro_fields(text)
    if schema_type == "PROTOBUF":
        if re.search(r"\bmessage\s+\w+", text):
            return _proto_text_fields(text)
        return _proto_descriptor_fields(text)
    return None


def incompatibility(old, new):
    """Why new may not follow old, or None."""
    if old is None or new is None:
        return None
    for key, old_type in old.items():
        if key not in new:
            return "field %s removed" % (key,)
        if new[key] != old_type:
            return "field %s changed type from %s to %s" % (key, old_type, new[key])
    return None


class Registry:
    def __init__(self):
        self.lock = threading.Lock()
        self.schemas = []  # index = id - 1: {"schema", "schemaType", "references"}
        self.subjects = {}  # name -> [id of version 1, id of version 2, ...]
        self.config = {}  # subject -> level; "" the global one
        self.outage = 0

    def _schema_id(self, record):
        for index, existing in enumerate(self.schemas):
            if existing == record:
                return index + 1
        return None

    def level(self, subject):
        return self.config.get(subject) or self.config.get("") or "BACKWARD"

    def register(self, subject, record):
        versions = self.subjects.get(subject, [])
        known = self._schema_id(record)
        if known is not None and known in versions:
            return known  # idempotent: the same schema again in the same subject
        self.check(subject, record)
        if known is None:
            self.schemas.append(record)
            known = len(self.schemas)
        self.subjects.setdefault(subject, []).append(known)
        return known

    def check(self, subject, record):
        """Raises the 409 the subject's compatibility gives `record`, if any."""
        versions = self.subjects.get(subject, [])
        level = self.level(subject)
        if level != "NONE" and versions:
            new = schema_fields(record["schemaType"], record["schema"])
            earlier = versions if level.endswith("_TRANSITIVE") else versions[-1:]
            for schema_id in earlier:
                old_record = self.schemas[schema_id - 1]
                if old_record["schemaType"] != record["schemaType"]:
                    reason = "schema type changed"
                else:
                    reason = incompatibility(schema_fields(old_record["schemaType"], old_record["schema"]), new)
                if reason:
                    raise RegistryError(409, 409, "Schema being registered is incompatible with an earlier "
                                        "schema for subject \"%s\": %s" % (subject, reason))

    def version(self, subject, version):
        versions = self.subjects.get(subject)
        if not versions:
            raise RegistryError(404, 40401, "Subject '%s' not found." % subject)
        if version == "latest" or version == "-1":
            number = len(versions)
        else:
            try:
                number = int(version)
            except ValueError:
                raise RegistryError(422, 42202, "The specified version '%s' is not a valid version id." % version)
            if not 1 <= number <= len(versions):
                raise RegistryError(404, 40402, "Version %s not found." % version)
        schema_id = versions[number - 1]
        return describe(subject, schema_id, number, self.schemas[schema_id - 1])


def describe(subject, schema_id, version, record):
    answer = {"subject": subject, "version": version, "id": schema_id, "schema": record["schema"]}
    if record["schemaType"] != "AVRO":
        answer["schemaType"] = record["schemaType"]
    if record["references"]:
        answer["references"] = record["references"]
    return answer


def parse_schema_body(body):
    if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
        raise RegistryError(422, 42201, "Invalid schema: the body needs a \"schema\" string")
    schema_type = body.get("schemaType") or "AVRO"
    if schema_type not in ("AVRO", "PROTOBUF", "JSON"):
        raise RegistryError(422, 42201, "Invalid schema type %s" % schema_type)
    references = body.get("references") or []
    if not isinstance(references, list):
        raise RegistryError(422, 42201, "Invalid references")
    if schema_type == "AVRO":
        try:
            json.loads(body["schema"])
        except ValueError:
            raise RegistryError(422, 42201, "Invalid schema: not JSON")
    return {"schema": body["schema"], "schemaType": schema_type,
            "references": [{"name": r.get("name"), "subject": r.get("subject"), "version": r.get("version")}
                           for r in references if isinstance(r, dict)]}


def make_handler(registry, credentials):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet: the tests read stdout
            pass

        def _answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                raise RegistryError(422, 42201, "Request body too large")
            raw = self.rfile.read(length) if length else b""
            try:
                return json.loads(raw) if raw else None
            except ValueError:
                raise RegistryError(400, 400, "Unrecognized JSON body")

        def _serve(self, method):
            path = [unquote(part) for part in self.path.split("?")[0].strip("/").split("/") if part]
            if path[:2] == ["_standin", "outage"] and method == "PUT":
                registry.outage = int((self._body() or {}).get("status") or 0)
                return self._answer(200, {"status": registry.outage})
            if registry.outage:
                return self._answer(registry.outage, {"error_code": registry.outage * 100,
                                                      "message": "stand-in outage"})
            if credentials and self.headers.get("Authorization") != credentials:
                return self._answer(401, {"error_code": 401, "message": "Unauthorized"})
            with registry.lock:
                return self._answer(200, self._route(method, path))

        def _route(self, method, path):
            if method == "GET" and path == ["subjects"]:
                return sorted(registry.subjects)
            if len(path) >= 2 and path[0] == "subjects":
                subject = path[1]
                if method == "POST" and len(path) == 3 and path[2] == "versions":
                    return {"id": registry.register(subject, parse_schema_body(self._body()))}
                if method == "POST" and len(path) == 2:
                    record = parse_schema_body(self._body())
                    versions = registry.subjects.get(subject)
                    if not versions:
                        raise RegistryError(404, 40401, "Subject '%s' not found." % subject)
                    schema_id = registry._schema_id(record)
                    if schema_id not in versions:
                        raise RegistryError(404, 40403, "Schema not found")
                    return describe(subject, schema_id, versions.index(schema_id) + 1, record)
                if method == "GET" and len(path) == 3 and path[2] == "versions":
                    if subject not in registry.subjects:
                        raise RegistryError(404, 40401, "Subject '%s' not found." % subject)
                    return list(range(1, len(registry.subjects[subject]) + 1))
                if method == "GET" and len(path) == 4 and path[2] == "versions":
                    return registry.version(subject, path[3])
            if method == "POST" and len(path) == 5 and path[:2] == ["compatibility", "subjects"]:
                record = parse_schema_body(self._body())
                registry.version(path[2], path[4])  # 404 for an unknown subject or version
                try:
                    registry.check(path[2], record)
                    return {"is_compatible": True}
                except RegistryError as error:
                    if error.status != 409:
                        raise
                    return {"is_compatible": False}
            if method == "GET" and len(path) == 3 and path[:2] == ["schemas", "ids"]:
                try:
                    schema_id = int(path[2])
                except ValueError:
                    raise RegistryError(404, 40403, "Schema %s not found" % path[2])
                if not 1 <= schema_id <= len(registry.schemas):
                    raise RegistryError(404, 40403, "Schema %d not found" % schema_id)
                record = registry.schemas[schema_id - 1]
                answer = {"schema": record["schema"]}
                if record["schemaType"] != "AVRO":
                    answer["schemaType"] = record["schemaType"]
                if record["references"]:
                    answer["references"] = record["references"]
                return answer
            if path and path[0] == "config" and len(path) <= 2:
                subject = path[1] if len(path) == 2 else ""
                if method == "GET":
                    if subject and subject not in registry.config:
                        raise RegistryError(404, 40408, "Subject '%s' does not have subject-level "
                                            "compatibility configured" % subject)
                    return {"compatibilityLevel": registry.level(subject)}
                if method == "PUT":
                    level = ((self._body() or {}).get("compatibility") or "").upper()
                    if level not in LEVELS:
                        raise RegistryError(422, 42203, "Invalid compatibility level")
                    registry.config[subject] = level
                    return {"compatibility": level}
            raise RegistryError(404, 404, "HTTP 404 Not Found")

        def _dispatch(self, method):
            try:
                self._serve(method)
            except RegistryError as error:
                self._answer(error.status, {"error_code": error.error_code, "message": error.message})

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_PUT(self):
            self._dispatch("PUT")

    return Handler


def serve(port=0, user=None, password=None):
    """Starts a stand-in on a thread; returns (server, url). server.shutdown() stops it."""
    credentials = None
    if user is not None:
        credentials = "Basic " + base64.b64encode(("%s:%s" % (user, password or "")).encode()).decode()
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(Registry(), credentials))
    server.daemon_threads = True
    # A short poll interval: shutdown() waits for it, and the tests stop one stand-in each.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args()
    server, url = serve(args.port, args.user, args.password)
    if args.port_file:
        with open(args.port_file, "w") as out:
            out.write("%d\n" % server.server_address[1])
    print("listening on " + url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
