# expect: clean
from platform_app import PortalApp

portal = PortalApp(__name__)
portal.config.from_pyfile("portal.cfg")

if __name__ == "__main__":
    portal.run(port=8126)
