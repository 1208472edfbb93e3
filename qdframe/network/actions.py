"""What the ``qdframe network`` commands do, as functions returning data.

Kept apart from the command line so that the same steps (apply shared
settings with verification, build a contribution from a tuning result, show
what would be sent) can be called from Python and tested without a terminal.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qdframe.config import SystemConfig, config_from_mapping
from qdframe.errors import ConfigError
from qdframe.files import atomic_write_bytes
from qdframe.network.applied import load_applied, save_applied
from qdframe.network.apply import SettingChange, current_settings
from qdframe.network.client import DistributedOptimizationNetwork
from qdframe.network.schemas import ContributionIn
from qdframe.network.state import install_token

if TYPE_CHECKING:
    from qdframe.plugins import LoadedPlugins
    from qdframe.tuning.verify import ResultCheck, Verification

__all__ = [
    "ApplyReport",
    "apply_shared",
    "contribution_from_tuning",
    "request_preview",
    "write_config_file",
]


@dataclass
class ApplyReport:
    """What ``qdframe network apply`` found, changed and kept."""

    system_type: str
    source_system_type: str | None = None
    match_level: str | None = None
    changes: list[SettingChange] = field(default_factory=list)
    verification: Verification | None = None
    check: ResultCheck | None = None
    kept: bool = False
    reason: str = ""
    written: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "system_type": self.system_type,
            "source_system_type": self.source_system_type,
            "match_level": self.match_level,
            "changes": [c.to_json() for c in self.changes],
            "verification": None if self.verification is None else self.verification.to_json(),
            "results_check": None if self.check is None else self.check.to_json(),
            "kept": self.kept,
            "reason": self.reason,
            "written": self.written,
        }


def write_config_file(path: Path, changes: list[SettingChange]) -> bool:
    """Write applied changes that are configuration fields into the TOML file at ``path``.

    :returns: whether the file changed.
    :raises ConfigError: the file is not valid TOML or the result would not validate.
    """
    import tomli_w

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"malformed TOML: {exc}", source=str(path)) from None
    fields = SystemConfig.model_validate({})
    touched = False
    for change in changes:
        if not change.applied:
            continue
        *parents, name = change.key.split(".")
        owner: Any = fields
        for part in parents:
            owner = getattr(owner, part, None)
        if owner is None or name not in type(owner).model_fields:
            continue  # not a configuration field: lives in the applied-settings file
        table = data
        for part in parents:
            table = table.setdefault(part, {})
        table[name] = change.new
        touched = True
    if touched:
        config_from_mapping(data, source=str(path))  # refuse to write an invalid file
        atomic_write_bytes(path, tomli_w.dumps(data).encode("utf-8"))
    return touched


def apply_shared(
    client: DistributedOptimizationNetwork,
    *,
    config: SystemConfig,
    verify: bool = False,
    dry_run: bool = False,
    fetch: bool = True,
    config_file: Path | None = None,
    plugins: LoadedPlugins | None = None,
) -> ApplyReport:
    """Fetch, choose the match for this host, apply to the current settings, keep or not.

    The current settings are those applied before, then the configuration,
    then the declared defaults. With ``verify`` the new settings are A/B timed
    against the current ones and kept only if faster, using ``plugins`` (the
    client's plugin set when omitted) for the backends the timing runs on.
    Whatever ``verify`` says, the client first checks on this host that each
    shared setting keeps the results (see
    :meth:`DistributedOptimizationNetwork.apply`); what fails is refused.
    """
    if fetch:
        client.fetch_shared_optimizations()
    report = ApplyReport(system_type=client.system_type)
    match = client.get_optimizations_for_system()
    if match is None:
        report.reason = f"No shared optimizations found for system type: {client.system_type}"
        return report
    report.source_system_type = match.system_type
    report.match_level = match.level
    applied_before = load_applied(client.paths.applied_file)
    current = current_settings(client.whitelist, config, applied_before)
    client.last_check = None
    _, report.changes = client.apply(current, match)
    report.check = client.last_check
    accepted = {c.key: c.new for c in report.changes if c.applied}
    if not accepted:
        failed: dict[str, str] = report.check.failed if report.check is not None else {}
        refused = sum(1 for c in report.changes if not c.applied and c.key not in failed)
        if failed:
            report.reason = (
                f"nothing applied: {len(failed)} shared setting(s) failed the check on this host"
                + (f", {refused} not allowed by this installation's plugins" if refused else "")
            )
        elif refused:
            report.reason = (
                f"nothing applied: {refused} shared setting(s) not allowed by this "
                "installation's plugins"
            )
        else:
            report.reason = "current settings already match the shared recommendation"
        return report
    if verify:
        from qdframe.tuning.verify import verify_settings

        report.verification = verify_settings(
            current, accepted, plugins=plugins if plugins is not None else client.plugins
        )
        if not report.verification.agrees:
            report.reason = "shared settings change results; current settings kept"
            return report
        if not report.verification.faster:
            report.reason = (
                f"shared settings were not faster here ({report.verification.gain:+.1%}); "
                "current settings kept"
            )
            return report
    report.kept = True
    report.reason = "shared settings applied"
    if dry_run:
        report.reason = "dry run: nothing written"
        return report
    save_applied(
        client.paths.applied_file,
        {**applied_before, **accepted},
        source_system_type=match.system_type,
    )
    report.written.append(str(client.paths.applied_file))
    if config_file is not None and write_config_file(config_file, report.changes):
        report.written.append(str(config_file))
    return report


def contribution_from_tuning(
    client: DistributedOptimizationNetwork, result_file: Path | None = None
) -> ContributionIn:
    """The contribution for the stored tuning result (the last ``qdframe tune`` by default).

    :raises ConfigError: there is no readable tuning result.
    """
    from qdframe.tuning.result import TuneResult

    result = TuneResult.load(result_file or client.paths.tuning_file)
    return result.to_contribution(install_token(client.paths))


def request_preview(
    client: DistributedOptimizationNetwork, contribution: ContributionIn
) -> dict[str, Any]:
    """Exactly what ``contribute`` would send: servers, path, headers and body.

    ``install_token`` is the id the first server issued to this installation;
    before the first contact it is the local token, which the issued id
    replaces when the contribution is sent. The identity's signed token is
    shown only by its id.
    """
    body = contribution.model_dump(mode="json")
    known = client.identities.get(client.servers[0]) if client.servers else None
    if known is not None:
        body["install_token"] = known.install_token
    authorization = (
        f"Bearer v1.{known.install_token}.<signature>"
        if known is not None
        else "Bearer <identity the server issues at registration, on first contact>"
    )
    return {
        "method": "POST",
        "servers": client.servers,
        "path": "/api/network/contribute",
        "headers": {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"qdframe/{client.qdframe_version}",
            "Idempotency-Key": "<random, new for each contribution>",
            "Authorization": authorization,
        },
        "body": body,
        "body_bytes": len(json.dumps(body).encode("utf-8")),
    }
