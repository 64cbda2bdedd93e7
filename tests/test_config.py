"""Configuration: declaration, precedence, validation."""

from __future__ import annotations

import pytest
from flask import Flask
from flask_prodguard import ConfigurationError
from flask_prodguard import ProdGuard
from flask_prodguard.config import KEYS
from flask_prodguard.config import load_settings
from flask_prodguard.policy import Environment
from flask_prodguard.policy import Strictness


def test_every_key_declared_once_with_prefix_and_doc() -> None:
    """Each key is declared once, with the PRODGUARD_ prefix and a description."""
    assert set(KEYS) >= {"PRODGUARD_ENV", "PRODGUARD_STRICTNESS"}
    for name, key in KEYS.items():
        assert name == key.name and name.startswith("PRODGUARD_")
        assert key.doc


@pytest.mark.parametrize(
    ("env", "strictness"),
    [
        ("production", "enforce"),
        ("staging", "enforce"),
        ("development", "off"),
        ("testing", "off"),
    ],
)
def test_default_strictness_follows_environment(env: str, strictness: str) -> None:
    """Production-like environments default to enforce, the others to off."""
    settings = load_settings({"PRODGUARD_ENV": env}, {}, {})
    assert settings.strictness is Strictness(strictness)
    assert settings.sources["PRODGUARD_STRICTNESS"] == f"default for {env}"


def test_default_environment_is_testing_under_pytest() -> None:
    """The bundled pytest plugin makes testing the default environment."""
    settings = load_settings({}, {}, {})
    assert settings.env is Environment.TESTING
    assert not settings.env_explicit


def test_default_environment_is_production_without_pytest_plugin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside pytest, a guard that is told nothing assumes production."""
    from flask_prodguard import config

    monkeypatch.setattr(config, "_under_pytest", False)
    settings = load_settings({}, {}, {})
    assert settings.env is Environment.PRODUCTION
    assert settings.strictness is Strictness.ENFORCE


def test_precedence_env_var_over_argument_over_config() -> None:
    """The process environment beats the constructor, which beats app.config."""
    config = {"PRODGUARD_ENV": "development", "PRODGUARD_STRICTNESS": "off"}
    overrides = {"env": "staging", "strictness": "report"}
    environ = {"PRODGUARD_ENV": "production", "PRODGUARD_STRICTNESS": "strict"}

    settings = load_settings(config, overrides, environ)
    assert (settings.env, settings.strictness) == ("production", "strict")
    assert settings.sources["PRODGUARD_ENV"] == "environment variable PRODGUARD_ENV"

    settings = load_settings(config, overrides, {})
    assert (settings.env, settings.strictness) == ("staging", "report")
    assert settings.sources["PRODGUARD_ENV"] == "ProdGuard(env=...)"

    settings = load_settings(config, {}, {})
    assert (settings.env, settings.strictness) == ("development", "off")
    assert settings.sources["PRODGUARD_ENV"] == "app.config"


def test_empty_environment_variable_is_ignored() -> None:
    """An empty PRODGUARD_ENV in the environment does not hide the config value."""
    settings = load_settings({"PRODGUARD_ENV": "staging"}, {}, {"PRODGUARD_ENV": " "})
    assert settings.env is Environment.STAGING


def test_values_are_case_and_space_insensitive() -> None:
    """' Production ' is production: values are normalised before validation."""
    settings = load_settings(
        {"PRODGUARD_ENV": " Production ", "PRODGUARD_STRICTNESS": "STRICT"}, {}, {}
    )
    assert (settings.env, settings.strictness) == ("production", "strict")


def test_unknown_key_names_closest_valid_key() -> None:
    """A misspelt key raises, naming the key, its value and the closest key."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({"PRODGUARD_STRICTNES": "strict"}, {}, {})
    error = info.value
    assert error.key == "PRODGUARD_STRICTNES"
    assert error.suggestion == "PRODGUARD_STRICTNESS"
    assert "PRODGUARD_STRICTNES = 'strict'" in str(error)
    assert "Did you mean PRODGUARD_STRICTNESS?" in str(error)


def test_bad_value_names_key_value_allowed_and_closest() -> None:
    """A bad value raises with the key, the value, the allowed values and a suggestion."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({"PRODGUARD_ENV": "prod"}, {}, {})
    message = str(info.value)
    assert "PRODGUARD_ENV = 'prod'" in message
    for allowed in ("'production'", "'staging'", "'development'", "'testing'"):
        assert allowed in message
    assert "<Environment" not in message and "Strictness." not in message
    assert info.value.allowed == ("production", "staging", "development", "testing")
    assert info.value.suggestion == "production"
    assert "app.config" in message


def test_bad_value_from_environment_variable_says_so() -> None:
    """A bad value in the process environment is attributed to the variable."""
    with pytest.raises(ConfigurationError, match="environment variable PRODGUARD_STRICTNESS"):
        load_settings({}, {}, {"PRODGUARD_STRICTNESS": "enforcing"})


@pytest.mark.parametrize("value", [1, True, ["production"], 3.5])
def test_bad_type_raises(value: object) -> None:
    """A non-string value raises ConfigurationError naming the type."""
    with pytest.raises(ConfigurationError, match="must be a string") as info:
        load_settings({"PRODGUARD_ENV": value}, {}, {})
    assert info.value.key == "PRODGUARD_ENV"
    assert type(value).__name__ in str(info.value)


def test_configuration_error_is_a_value_error() -> None:
    """Existing ``except ValueError`` blocks catch configuration errors."""
    with pytest.raises(ValueError):
        load_settings({"PRODGUARD_ENV": "nowhere"}, {}, {})


def test_unknown_constructor_argument_raises_with_suggestion() -> None:
    """ProdGuard(strictnes=...) raises at construction, suggesting strictness."""
    with pytest.raises(ConfigurationError, match="Did you mean strictness") as info:
        ProdGuard(strictnes="strict")
    assert info.value.key == "strictnes"


def test_unknown_key_raises_from_init_app() -> None:
    """init_app validates app.config and leaves the app unguarded on error."""
    app = Flask("bad")
    app.config["PRODGUARD_ENVIRONMENT"] = "production"
    with pytest.raises(ConfigurationError, match="PRODGUARD_ENV"):
        ProdGuard(app)
    assert "prodguard" not in app.extensions


def test_config_read_once_at_init_app(make_app) -> None:  # type: ignore[no-untyped-def]
    """Changing app.config after init_app does not change the settings."""
    app = make_app(env="production", strictness="report")
    app.config["PRODGUARD_STRICTNESS"] = "off"
    assert app.extensions["prodguard"].settings.strictness is Strictness.REPORT


def test_misspelt_environment_variable_raises_naming_closest_key() -> None:
    """PRODGUARD_STRICTNES=strict in the environment raises instead of failing open."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({}, {}, {"PRODGUARD_STRICTNES": "strict"})
    error = info.value
    assert error.key == "PRODGUARD_STRICTNES"
    assert error.suggestion == "PRODGUARD_STRICTNESS"
    assert "Unknown environment variable PRODGUARD_STRICTNES." in str(error)
    assert "Did you mean PRODGUARD_STRICTNESS?" in str(error)


def test_environment_variable_that_only_code_can_set_raises() -> None:
    """PRODGUARD_LOG_FORMAT in the environment would be ignored: it raises, saying why."""
    with pytest.raises(ConfigurationError) as info:
        load_settings({}, {}, {"PRODGUARD_LOG_FORMAT": "ecs"})
    assert info.value.key == "PRODGUARD_LOG_FORMAT"
    assert "read from app.config only" in str(info.value)
    assert "PRODGUARD_STRICTNESS" in info.value.allowed


def test_environment_variable_forwarded_by_the_app_is_accepted() -> None:
    """A key the app copies from the environment into app.config is not an error."""
    settings = load_settings(
        {"PRODGUARD_LOG_FORMAT": "ecs"}, {}, {"PRODGUARD_LOG_FORMAT": "ecs"}
    )
    assert settings.log_format == "ecs"


def test_unrelated_environment_variables_are_ignored() -> None:
    """Variables outside the PRODGUARD_ namespace never raise."""
    settings = load_settings({}, {}, {"PRODGUARD": "x", "FLASK_PRODGUARD_X": "1"})
    assert settings.sources["PRODGUARD_ENV"].startswith("default")


def test_misspelt_environment_variable_stops_init_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """init_app raises on a misspelt operator variable and leaves the app unguarded."""
    monkeypatch.setenv("PRODGUARD_STRICTNES", "strict")
    app = Flask("misspelt")
    with pytest.raises(ConfigurationError, match="PRODGUARD_STRICTNESS"):
        ProdGuard(app)
    assert "prodguard" not in app.extensions
