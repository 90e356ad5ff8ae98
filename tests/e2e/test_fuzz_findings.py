"""What the fuzz targets of tests/fuzz/ found (issue 9), each with the request that showed it.
The same requests are in tests/fuzz/corpus/, which the unit run replays."""
import json
import socket
import urllib.parse

from conftest import SLOW, basic


def raw_request(server, head, body=b""):
    """Sends bytes as they are (requests would refuse or re-encode them); the answer's
    status, headers and body."""
    u = urllib.parse.urlsplit(server.url)
    with socket.create_connection((u.hostname, u.port), timeout=30 * SLOW) as s:
        s.sendall(head + body)
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def test_a_host_header_that_is_not_ascii_does_not_break_the_json_answer(server):
    """The root URL was built from any Host; a byte that is not UTF-8 made the
    answer's "url" unwritable, and the caller got a 500."""
    status, head, body = raw_request(
        server,
        b"GET /api/json HTTP/1.1\r\nHost: 127.0.0.1:\xd38080\r\nConnection: close\r\n"
        + b"Authorization: " + basic(*server.alice).encode() + b"\r\n\r\n")
    assert status == 200, head
    assert json.loads(body)["url"] == "http://127.0.0.1/"
