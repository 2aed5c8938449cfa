from tripflow_common.web.serve import serve
from tripflow_documents import SERVICE
from tripflow_documents.app import create_app
from tripflow_documents.settings import DocumentsSettings


def main() -> None:
    settings = DocumentsSettings()
    serve(SERVICE, lambda: settings, create_app, settings.port)


if __name__ == "__main__":
    main()
