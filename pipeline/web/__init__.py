"""The review desk: a FastAPI app with server-rendered Jinja2 templates.

Needs the ``web`` extra (fastapi, uvicorn, python-multipart, argon2-cffi,
itsdangerous); the rest of the package imports without it.
"""
