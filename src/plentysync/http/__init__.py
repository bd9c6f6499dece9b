"""The HTTP base both adapters share: retries, the status→action table, the header-driven budget
gate and the redacting request log."""

from plentysync.http.budget import BudgetGate, GateSnapshot, RateBudget, WindowReading
from plentysync.http.client import Auth, HttpClient, HttpConfig, RetryConfig, decode_body
from plentysync.http.policy import Action, Rule, StatusPolicy
from plentysync.http.requestlog import RequestLog
from plentysync.http.retry_after import parse_retry_after

__all__ = [
    "Action",
    "Auth",
    "BudgetGate",
    "GateSnapshot",
    "HttpClient",
    "HttpConfig",
    "RateBudget",
    "RequestLog",
    "RetryConfig",
    "Rule",
    "StatusPolicy",
    "WindowReading",
    "decode_body",
    "parse_retry_after",
]
