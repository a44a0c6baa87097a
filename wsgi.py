"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi …``."""
from web import create_app

app = create_app()
