from tripflow_common.web.serve import serve
from tripflow_lifecycle import SERVICE
from tripflow_lifecycle.app import create_app
from tripflow_lifecycle.settings import LifecycleSettings


def main() -> None:
    settings = LifecycleSettings()
    serve(SERVICE, lambda: settings, create_app, settings.port)


if __name__ == "__main__":
    main()
