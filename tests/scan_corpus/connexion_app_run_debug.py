# expect: PGS101 line 12
"""Pet store API server (generated from openapi/petstore.yaml, then edited)."""
import connexion

from petstore import encoder


def main():
    app = connexion.App(__name__, specification_dir="./openapi/")
    app.app.json_encoder = encoder.JSONEncoder
    app.add_api("petstore.yaml", arguments={"title": "Pet Store"}, pythonic_params=True)
    app.run(port=8080, debug=True)


if __name__ == "__main__":
    main()
