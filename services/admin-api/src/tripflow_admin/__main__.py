from tripflow_admin import SERVICE
from tripflow_admin.app import create_app
from tripflow_admin.settings import AdminSettings
from tripflow_common.web.serve import serve


def main() -> None:
    settings = AdminSettings()
    serve(SERVICE, lambda: settings, create_app, settings.port)


if __name__ == "__main__":
    main()
