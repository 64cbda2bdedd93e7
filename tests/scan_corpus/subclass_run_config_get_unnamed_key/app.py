# expect: PGS101 line 8
from platform_app import PortalApp

portal = PortalApp(__name__)
portal.config.update(SECRET_KEY="from-the-vault", PORTAL_NAME="intranet")

if __name__ == "__main__":
    portal.run(port=8126)
