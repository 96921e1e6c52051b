"""The PDF maker fetches nothing (every URL refused, whatever the HTML asks for), and only code that
makes a PDF loads WeasyPrint: the CLI, the demo and the workspace start without it."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pypdf
import pytest

from bot.pdf import html_to_pdf


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    """A local web server that records every path asked of it."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", asked
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_a_pdf_fetches_nothing_the_html_points_at(server: tuple[str, list[str]]) -> None:
    base, asked = server
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/sheet.css"><style>@import url("{base}/more.css");'
        f'@font-face {{ font-family: X; src: url("{base}/font.woff"); }}</style></head>'
        f'<body><p>Referral for C-7Q2</p><img src="{base}/pixel.png" alt=""><img src="file:///etc/passwd"></body></html>'
    )
    pdf = html_to_pdf(html)
    assert asked == []
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Referral for C-7Q2" in text and "root:" not in text


def test_the_cli_and_the_workspace_start_without_weasyprint() -> None:
    probe = "import sys, bot.cli.main, bot.web.pages, bot.web.marac_page; print('weasyprint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"
