"""What the tests share (conftest.py holds only the fixtures): settings, a real embedded Redis,
fakes for the two ports, signed webhook posts, the running stack and gunicorn, the phone
simulator's harness, the SSE reader, the fault matrix's helpers."""
