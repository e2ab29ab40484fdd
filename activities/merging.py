"""The register's part of a merge done by the survivor's run: the absorbed
complaint's documents and messages copied to the survivor, each once
(complaints/merges.py)."""

import asyncpg
from pydantic import BaseModel
from temporalio import activity

from complaints.merges import copy_into_survivor


class MergeCopy(BaseModel):
    absorbed: str
    survivor: str


class MergeCopied(BaseModel):
    documents: int
    messages: int


class MergeActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def copy_merged(self, copy: MergeCopy) -> MergeCopied:
        copied = await copy_into_survivor(self._pool, copy.absorbed, copy.survivor)
        return MergeCopied(documents=copied.documents, messages=copied.messages)
