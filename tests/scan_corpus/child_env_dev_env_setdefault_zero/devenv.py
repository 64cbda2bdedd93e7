# expect: clean
"""The environment a developer's ``flask run`` gets, unless their shell sets it."""
DEV_ENV = {
    "FLASK_APP": "shop:create_app",
    "FLASK_DEBUG": "0",
    "FLASK_RUN_PORT": "5005",
    "SHOP_DATABASE_URL": "postgresql://localhost/shop_dev",
}
