from tripflow_common.web.serve import serve
from tripflow_gateway import SERVICE
from tripflow_gateway.app import create_app
from tripflow_gateway.settings import GatewaySettings


def main() -> None:
    settings = GatewaySettings()
    serve(SERVICE, lambda: settings, create_app, settings.port)


if __name__ == "__main__":
    main()
