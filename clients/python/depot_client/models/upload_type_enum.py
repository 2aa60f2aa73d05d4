from enum import StrEnum

class UploadTypeEnum(StrEnum):
    RUNTIME = "runtime"

    def __str__(self) -> str:
        return str(self.value)
