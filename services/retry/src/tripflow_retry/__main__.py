from tripflow_common.web.serve import serve
from tripflow_retry import SERVICE
from tripflow_retry.app import create_app
from tripflow_retry.settings import RetrySettings


def main() -> None:
    settings = RetrySettings()
    serve(SERVICE, lambda: settings, create_app, settings.port)


if __name__ == "__main__":
    main()
