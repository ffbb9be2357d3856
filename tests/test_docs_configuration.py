"""docs/configuration.md lists every setting herald reads."""

from __future__ import annotations

from pydantic import AliasChoices

from herald.config import Settings
from tests.conftest import REPO_ROOT


def test_every_environment_variable_is_documented() -> None:
    text = (REPO_ROOT / "docs" / "configuration.md").read_text()
    missing = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        assert isinstance(alias, AliasChoices), name
        for choice in alias.choices:
            if isinstance(choice, str) and choice.isupper() and f"`{choice}`" not in text:
                missing.append(choice)
    assert missing == []


def test_every_bound_is_documented_in_its_row() -> None:
    """A bounded setting's row states its range exactly as a bad value's error does."""
    from herald.config import bounds_text, env_name

    rows = {
        line.split("|")[1].strip(): line
        for line in (REPO_ROOT / "docs" / "configuration.md").read_text().splitlines()
        if line.startswith("| `")
    }
    undocumented = []
    for field in Settings.model_fields:
        bounds = bounds_text(field)
        row = rows.get(f"`{env_name(field)}`", "")
        if bounds is not None and bounds not in row:
            undocumented.append(f"{env_name(field)}: {bounds}")
    assert undocumented == []
