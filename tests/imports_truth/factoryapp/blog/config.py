class Config:
    SECRET_KEY = "dev"
    DATABASE = ":memory:"


class ProductionConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True


def by_name(name):
    return {"production": ProductionConfig, "testing": TestingConfig}.get(name, Config)
