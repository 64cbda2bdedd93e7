# expect: clean
"""Reads config.ini, kept beside this module."""
import configparser
import os

CONFIG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "config.ini")


def load(path=CONFIG_FILE):
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise SystemExit(f"cannot read {path}")
    return parser
