# expect: clean
from storefront import build_site

application = build_site()
