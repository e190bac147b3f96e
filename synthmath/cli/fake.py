"""``fake-server``: the fake math model behind an OpenAI-compatible API, to try a build with no model."""

from __future__ import annotations

import click

from ._app import main


@main.command("fake-server", short_help="Serve a fake model that rewords and solves by rule (no GPU).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--model", default="fake-math", show_default=True, help="The model name it serves.")
@click.option("--latency", type=float, default=0.0, help="Seconds before each reply [default: 0].")
@click.option("--echo", is_flag=True, help="Send each prompt back instead (every rewording is then a copy).")
def fake_server_command(port: int, host: str, model: str, latency: float, echo: bool) -> None:
    """Serve a fake model at http://HOST:PORT/v1 until Ctrl-C: it rewords each problem with a table of
    synonyms and phrasings (numbers and formulas kept) and rewrites the reference solution it is given,
    ending in its boxed answer. A build against it keeps records, with no GPU and no download:

        synthmath build-instruct --base-url http://127.0.0.1:8000/v1 --from SEEDS.jsonl --out out/
    """
    from ..testing import serve

    serve(
        host=host,
        port=port,
        model=model,
        echo=echo,
        latency=latency,
        on_ready=lambda url: click.echo(f"serving {model} at {url} (Ctrl-C stops it)", err=True),
    )
