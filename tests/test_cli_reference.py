"""analytics/docs/cli.md lists every command and option exactly as the parser defines them."""

from tests import cli_reference


def test_the_cli_reference_is_the_parser():
    doc = cli_reference.DOC.read_text()
    assert cli_reference.generated_part(doc) == cli_reference.reference(), (
        "analytics/docs/cli.md is out of date: run .venv/bin/python -m tests.cli_reference --write")


def test_every_command_has_a_section():
    doc = cli_reference.DOC.read_text()
    for name in cli_reference.command_names():
        assert f"### `lastmile {name}`" in doc
