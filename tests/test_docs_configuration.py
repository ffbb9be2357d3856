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
