# expect: clean
# Loaded by app.py with app.config.from_pyfile("settings.py").
SECRET_KEY = "change-me"
DEBUG = True
SQLALCHEMY_DATABASE_URI = "sqlite:///blog.db"
SQLALCHEMY_TRACK_MODIFICATIONS = False
POSTS_PER_PAGE = 10
UPLOAD_FOLDER = "uploads"
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
