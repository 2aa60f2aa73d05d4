from enum import StrEnum

class SourceEnum(StrEnum):
    API = "api"
    UPLOAD = "upload"
    WORKSPACE = "workspace"

    def __str__(self) -> str:
        return str(self.value)
