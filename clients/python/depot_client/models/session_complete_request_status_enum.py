from enum import StrEnum

class SessionCompleteRequestStatusEnum(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"

    def __str__(self) -> str:
        return str(self.value)
