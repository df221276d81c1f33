#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/ (run from anywhere; idempotent).

Topology seeds: copies of config/*.yaml and tests/data/topology/*.yaml plus
a few that use the server, sandbox and security sections. The others are
built byte by byte: HTTP requests (one per endpoint, chunked ones too),
sandbox frames (one per type) and fuzzed descriptors (the layout read by
fuzzed_descriptor_plugin.c). Crash inputs found later are
added to the same folders by hand, under names starting with "crash-".
"""
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


# --- Topologies -----------------------------------------------------------
ROOT = HERE.parent.parent
for source in sorted((ROOT / "config").glob("*.yaml")) + sorted(
        (ROOT / "tests" / "data" / "topology").glob("*.yaml")):
    write("topology", source.parent.name + "_" + source.name, source.read_bytes())
write("topology", "server_sandbox_security.yaml", b"""\
cluster: {name: fuzz, heartbeat_timeout_seconds: 5}
server:
  listen: "[::1]:0"
  token: secret-token
  body_limit_bytes: 65536
  read_timeout_seconds: 2
  idle_timeout_seconds: 30
  drain_timeout_seconds: 1
  max_connections: 16
  threads: 2
sandbox:
  crash_limit: 3
  cooldown_seconds: 10
security:
  require_signatures: false
  allow_writable_plugins: true
nodes:
  - {id: gw-1, capabilities: [gpio], max_functions: 2, resources: {memory_max_mb: 1024}}
functions:
  - {id: echo, plugin: echo, isolation: process, memory_mb: 64, max_workers: 2,
     sha256: "0000000000000000000000000000000000000000000000000000000000000000"}
  - {id: echo2, plugin: echo.so, placement: least_loaded, max_in_flight: 3}
""")
write("topology", "anchors_and_flow.yaml", b"""\
defaults: &d {max_functions: 3}
nodes: [{id: a, <<: *d}, {id: b, capabilities: [x, y]}]
functions: [{id: f, plugin: ./echo.so, environment: {A_1: "1", B: two}}]
""")

# --- HTTP -----------------------------------------------------------------
def request(method, target, body=None, headers=(), chunked=False):
    lines = [f"{method} {target} HTTP/1.1", "Host: edge"]
    lines += list(headers)
    payload = b""
    if body is not None:
        body = body.encode() if isinstance(body, str) else body
        if chunked:
            lines.append("Transfer-Encoding: chunked")
            half = len(body) // 2
            for piece in (body[:half], body[half:]):
                if piece:
                    payload += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
            payload += b"0\r\n\r\n"
        else:
            lines.append(f"Content-Length: {len(body)}")
            payload = body
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


JSON = ["Content-Type: application/json"]
http_seeds = {
    "healthz": request("GET", "/healthz"),
    "health": request("GET", "/v1/health"),
    "metrics": request("GET", "/metrics"),
    "functions_list": request("GET", "/v1/functions"),
    "function_get": request("GET", "/v1/functions/echo"),
    "function_put": request("PUT", "/v1/functions/hello", '{"plugin": "echo", "placement": '
                            '"least_loaded", "memory_mb": 64, "timeout_seconds": 2.5, '
                            '"max_in_flight": 4, "environment": {"GREETING": "hi"}, '
                            '"required_capabilities": [], "name": "Hello"}', JSON),
    "function_put_chunked": request("PUT", "/v1/functions/hello", '{"plugin": "echo", '
                                    '"sha256": "' + "0" * 64 + '"}', JSON, chunked=True),
    "function_delete": request("DELETE", "/v1/functions/echo"),
    "function_warm": request("POST", "/v1/functions/echo/warm"),
    "function_invoke": request("POST", "/v1/functions/echo/invoke", "hello edge"),
    "function_invoke_node": request("POST", "/v1/functions/echo/invoke?node=gw-1", "x",
                                    ["X-Request-Id: seed-1"]),
    "function_invoke_chunked": request("POST", "/v1/functions/echo/invoke", "chunked body",
                                       chunked=True),
    "function_plan": request("POST", "/v1/functions/planned/plan", '{"plugin": "echo", '
                             '"placement": "all", "required_capabilities": ["gpio"]}', JSON),
    "nodes_list": request("GET", "/v1/nodes"),
    "node_register": request("POST", "/v1/nodes", '{"id": "gw-2", "name": "Gateway 2", '
                             '"location": "hall b", "capabilities": ["gpio", "modbus"], '
                             '"max_functions": 4, "resources": {"memory_max_mb": 2048}}', JSON),
    "node_register_chunked": request("POST", "/v1/nodes", '{"id": "gw-3"}', JSON, chunked=True),
    "node_get": request("GET", "/v1/nodes/gw-1"),
    "node_delete": request("DELETE", "/v1/nodes/gw-1"),
    "node_heartbeat": request("POST", "/v1/nodes/gw-1/heartbeat", '{"cpu_percent": 35.5, '
                              '"memory_mb": 200, "memory_max_mb": 512}', JSON),
    "node_heartbeat_empty": request("POST", "/v1/nodes/gw-1/heartbeat"),
    "node_drain": request("POST", "/v1/nodes/gw-1/drain"),
    "node_resume": request("POST", "/v1/nodes/gw-1/resume"),
    "authorized": request("GET", "/v1/functions", headers=["Authorization: Bearer fuzz-token"]),
    "pipelined": request("POST", "/v1/nodes", '{"id": "gw-9"}', JSON)
    + request("POST", "/v1/functions/echo/invoke?node=gw-9", "a")
    + request("POST", "/v1/nodes/gw-9/drain"),
    "http10": b"GET /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    # A process-isolated function (a worker forked by edge-worker's zygote).
    "process_isolation": request("PUT", "/v1/functions/p", '{"plugin": "echo", '
                                 '"isolation": "process", "max_workers": 2}', JSON)
    + request("POST", "/v1/functions/p/invoke", "hi") + request("GET", "/v1/functions/p"),
}
for name, data in http_seeds.items():
    write("http", name, data)

# --- Sandbox frames -------------------------------------------------------
TYPES = {"Spawn": 1, "Spawned": 2, "WorkerExited": 3, "WorkerOutput": 4, "Loaded": 10,
         "LoadFailed": 11, "Output": 12, "Failed": 13, "Log": 14, "OutOfMemory": 15,
         "Invoke": 20}


def s(text):
    text = text.encode() if isinstance(text, str) else text
    return struct.pack("<I", len(text)) + text


def frame(kind, payload=b""):
    return b"EW" + bytes([1, TYPES[kind]]) + struct.pack("<I", len(payload)) + payload


spawn = (s("echo") + s("/var/cache/edge/ab12.so") + struct.pack("<I", 2) + s("A") + s("1")
         + s("B") + s("two") + struct.pack("<qQ", 5_000_000_000, 64 << 20)
         + s("/sys/fs/cgroup/memory/edge") + s("1") + b"\x01" + s("") + struct.pack("<III", 32, 64, 65536)
         + b"\x01")
frames = {
    "spawn": frame("Spawn", spawn),
    "spawned": frame("Spawned", struct.pack("<I", 4242) + s("")),
    "spawn_failed": frame("Spawned", struct.pack("<I", 0) + s("fork: out of memory")),
    "worker_exited": frame("WorkerExited", struct.pack("<II", 4242, 9) + b"\x01"),
    "worker_output": frame("WorkerOutput", struct.pack("<I", 4242) + s("hello\n") + b"\x00"),
    "loaded": frame("Loaded"),
    "load_failed": frame("LoadFailed", b"\x01" + s("init failed")),
    "output": frame("Output", b"the output bytes"),
    "failed": frame("Failed", b"\x02" + s("deadline")),
    "log": frame("Log", b"\x03" + s("a log line")),
    "out_of_memory": frame("OutOfMemory"),
    "invoke": frame("Invoke", struct.pack("<q", 30_000_000_000) + s("input")),
}
# The harness reads a chunk size first, then the stream.
for name, data in frames.items():
    write("frame", name, b"\x07" + data)
write("frame", "stream", b"\x03" + frame("Loaded") + frames["log"] + frames["output"]
      + frames["worker_exited"])

# --- Descriptors ----------------------------------------------------------
def descriptor(struct_size=80, abi=1, present=0x7F, memory=0, timeout=0, flags=0,
               init=0, invoke_result=0, log_level=1, name="fuzzed", version="1.0.0",
               description="a fuzzed plugin", error="an error", capabilities=()):
    def string(text):
        text = text.encode()
        return bytes([len(text)]) + text
    return (struct.pack("<II", struct_size, abi) + bytes([present])
            + struct.pack("<III", memory, timeout, flags)
            + bytes([init, invoke_result, log_level, len(capabilities)])
            + string(name) + string(version) + string(description) + string(error)
            + b"".join(string(capability) for capability in capabilities))


descriptors = {
    "valid": descriptor(),
    "valid_defaults": descriptor(memory=256, timeout=1500, flags=1, capabilities=("gpio", "camera")),
    "wrong_abi": descriptor(abi=2),
    "too_small": descriptor(struct_size=16),
    "no_name": descriptor(present=0x7E),
    "empty_name": descriptor(name=""),
    "no_invoke": descriptor(present=0x5F),
    "null_descriptor": descriptor(present=0xFF),
    "init_fails": descriptor(init=1, error="cannot open the device"),
    "init_odd_result": descriptor(init=6),
    "init_logs": descriptor(init=3, log_level=9),
    "invoke_fails": descriptor(invoke_result=1, error="bad input"),
    "invoke_deadline": descriptor(invoke_result=2),
    "invoke_odd_result": descriptor(invoke_result=77),
    "huge_defaults": descriptor(memory=0xFFFFFFFF, timeout=0xFFFFFFFF, flags=0xFFFFFFFF),
    "larger_struct": descriptor(struct_size=200),
}
for name, data in descriptors.items():
    write("descriptor", name, data)
