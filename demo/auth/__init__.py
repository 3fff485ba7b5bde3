"""The auth service: logs users in and verifies the tokens it issued (HS256 JWT).

``python -m demo.auth --port 8001`` with ``AUTH_JWT_SECRET`` set (at least 32 bytes).
"""
