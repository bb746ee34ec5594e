"""Templates -> files: deterministic YAML, parameter files, manifest.json and a runbook.

`RenderedEnvironment` is the hand-off between the compiler and everything after it (lint, deploy):
deploy never re-reads the blueprint, it takes these objects (or reads them back from a manifest).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cfngen.errors import Mark, UsageError


@dataclass(frozen=True)
class RenderedStack:
    """One CloudFormation stack of one environment, ready to lint or deploy."""

    name: str  # full stack name, e.g. legocity-dev-network
    component: str  # component key, e.g. network, service-payload
    file: str  # file name inside DIR/ENV/, e.g. network.yaml
    body: str  # the template, YAML text
    parameters: dict[str, str]  # parameter values to deploy with (EnvironmentName, ImageTag ...)
    depends_on: tuple[str, ...]  # components this stack imports from (deploy before it)
    exports: tuple[str, ...]  # resolved export names this stack creates
    imports: tuple[str, ...]  # resolved export names this stack imports
    capabilities: tuple[str, ...] = ()  # e.g. CAPABILITY_NAMED_IAM
    termination_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    region: str | None = None  # set when the stack deploys outside the environment's region
    # a multi-region environment's stack: the regions its stack set deploys to, or (empty)
    # why it stays a plain stack in the home region (cfngen.regions)
    regions: tuple[str, ...] = ()
    home_only: str = ""
    # (body, the data it was dumped from) when the compiler has it: what parsing gives back,
    # for as long as `body` is that text (a copy with another body parses its own)
    parsed: tuple[str, dict[str, Any]] | None = field(default=None, compare=False, repr=False)

    @property
    def params_file(self) -> str:
        return self.file.removesuffix(".yaml") + ".params.json"

    def data(self) -> dict[str, Any] | None:
        """The data the compiler dumped `body` from, if it still is this stack's body."""
        if self.parsed is not None and self.parsed[0] is self.body:
            return self.parsed[1]
        return None

    @functools.cached_property
    def template(self) -> dict[str, Any]:
        """The body as data (`load_template`), parsed at most once per stack: the runbook's
        parts each read every template. Read it, never change it."""
        data = self.data()
        return data if data is not None else load_template(self.body)


@dataclass(frozen=True)
class RenderedEnvironment:
    """Every stack of one environment in deploy order (dependencies always come first)."""

    blueprint: str
    environment: str
    environment_name: str
    region: str
    source: str  # blueprint file path as given
    stacks: tuple[RenderedStack, ...]
    # blueprint entry (as stamped in resource Metadata, e.g. services.api) -> where it is written
    origins: dict[str, Mark] = field(default_factory=dict)
    # where it deploys: account, profile, role_arn, external_id, session_name (those given)
    target: dict[str, str] = field(default_factory=dict)
    # the network relations the blueprint declares (from, to, protocol, ports, description,
    # source): what `cfngen verify` proves the security groups permit
    relations: tuple[dict[str, str], ...] = ()
    # the accesses the blueprint declares (role, need, resource, source ...): what `cfngen
    # verify` proves the rendered policies allow
    accesses: tuple[dict[str, str], ...] = ()
    # every region the environment deploys to (home first) when there are several, and how
    # its stack sets run (StackSetSettings.settings)
    regions: tuple[str, ...] = ()
    stack_sets: dict[str, Any] = field(default_factory=dict)

    # values of the blueprint file copied from documentation (cfngen.placeholders), found on
    # the document the compiler loaded: a 1000-service blueprint is not parsed twice
    placeholders: tuple[str, ...] = ()

    @property
    def multi_region(self) -> bool:
        return len(self.regions) > 1

    def origin(self, path: str) -> str | None:
        mark = self.origins.get(path)
        return str(mark) if mark else None

    def stack(self, component: str) -> RenderedStack:
        for s in self.stacks:
            if s.component == component:
                return s
        raise KeyError(component)

    def manifest(self) -> dict[str, Any]:
        return {
            "blueprint": self.blueprint,
            "environment": self.environment,
            "environment_name": self.environment_name,
            "region": self.region,
            **({"target": dict(sorted(self.target.items()))} if self.target else {}),
            **(
                {"regions": list(self.regions), "stack_sets": dict(sorted(self.stack_sets.items()))}
                if self.multi_region
                else {}
            ),
            "order": [s.name for s in self.stacks],
            "stacks": [
                {
                    "name": s.name,
                    "component": s.component,
                    "file": s.file,
                    "parameters_file": s.params_file,
                    "parameters": dict(sorted(s.parameters.items())),
                    "depends_on": list(s.depends_on),
                    "exports": list(s.exports),
                    "imports": list(s.imports),
                    "capabilities": list(s.capabilities),
                    "termination_protection": s.termination_protection,
                    "tags": dict(sorted(s.tags.items())),
                    **({"region": s.region} if s.region else {}),
                    **({"regions": list(s.regions)} if s.regions else {}),
                    **({"home_only": s.home_only} if s.home_only else {}),
                }
                for s in self.stacks
            ],
            "origins": {
                path: f"{Path(m.file).name}:{m.line}:{m.col}"
                for path, m in sorted(self.origins.items())
            },
            "relations": [dict(r) for r in self.relations],
            "accesses": [dict(a) for a in self.accesses],
        }

    @classmethod
    def from_directory(cls, directory: Path) -> RenderedEnvironment:
        """Read a rendered environment back from DIR/ENV/ (manifest.json + templates)."""
        data = json.loads((directory / "manifest.json").read_text())
        stacks = tuple(
            RenderedStack(
                name=s["name"],
                component=s["component"],
                file=s["file"],
                body=(directory / s["file"]).read_text(),
                parameters=dict(s["parameters"]),
                depends_on=tuple(s["depends_on"]),
                exports=tuple(s["exports"]),
                imports=tuple(s["imports"]),
                capabilities=tuple(s["capabilities"]),
                termination_protection=bool(s["termination_protection"]),
                tags=dict(s["tags"]),
                region=s.get("region"),
                regions=tuple(s.get("regions", ())),
                home_only=str(s.get("home_only", "")),
            )
            for s in data["stacks"]
        )
        origins = {}
        for path, where in data.get("origins", {}).items():
            file, line, col = str(where).rsplit(":", 2)
            origins[path] = Mark(file, int(line), int(col))
        return cls(
            blueprint=data["blueprint"],
            environment=data["environment"],
            environment_name=data["environment_name"],
            region=data["region"],
            source=str(directory),
            stacks=stacks,
            origins=origins,
            target={str(k): str(v) for k, v in data.get("target", {}).items()},
            relations=tuple(
                {str(k): str(v) for k, v in r.items()}
                for r in data.get("relations", [])
                if isinstance(r, dict)
            ),
            accesses=tuple(
                {str(k): str(v) for k, v in a.items()}
                for a in data.get("accesses", [])
                if isinstance(a, dict)
            ),
            regions=tuple(str(r) for r in data.get("regions", ())),
            stack_sets=dict(data.get("stack_sets", {})),
        )


# --- templates to text --------------------------------------------------------------------


def dump_template(body: dict[str, Any]) -> str:
    """A template as YAML with short-form intrinsics (!Ref, !Sub ...), keys in canonical order:
    sections, then each resource's attributes, in their conventional order, all else sorted."""
    from cfngen.yaml_out import dump

    return dump(body)


def _long_form(loader: Any, suffix: str, node: Any) -> dict[str, Any]:
    """`!Ref X` -> {"Ref": X}; `!GetAtt R.A` -> {"Fn::GetAtt": [R, A]}; `!Sub s` -> {"Fn::Sub": s}.

    The inverse of `_short_form`."""
    import yaml

    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{suffix}": value}


@functools.cache
def _template_loader() -> Any:
    """A safe YAML loader (libyaml's C one when present) that knows every short-form tag."""
    import yaml

    base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader: Any = type("CfnLoader", (base,), {})
    loader.add_multi_constructor("!", _long_form)
    return loader


def load_template(body: str | dict[str, Any]) -> dict[str, Any]:
    """Parse a template (YAML with short-form tags, or JSON) into long-form data.

    The one parser for lint, the tests and deploy, which compares the deployed template with
    the rendered one as data (GetTemplate hands JSON templates back already parsed, as a dict).
    Nested short forms are parsed deeply (`!GetAtt [R, !Ref A]` keeps its `Ref`).
    """
    if isinstance(body, dict):
        return body
    import yaml

    data: Any = None
    if body.lstrip().startswith("{"):
        # YAML is a superset of JSON, but json.loads is faster and exact for JSON templates
        try:
            data = json.loads(body)
        except json.JSONDecodeError:  # a YAML flow mapping: {Resources: ...}
            data = None
    if data is None:
        data = yaml.load(body, Loader=_template_loader())
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping")
    return data


# --- files --------------------------------------------------------------------------------


def _params_file(stack: RenderedStack) -> str:
    # ["Key=Value", ...]: the one file format `aws cloudformation deploy --parameter-overrides
    # file://...` reads in AWS CLI v1 and v2 alike (v1 rejects ParameterKey/ParameterValue)
    items = [f"{k}={v}" for k, v in sorted(stack.parameters.items())]
    return json.dumps(items, indent=2) + "\n"


def runbook(env: RenderedEnvironment) -> str:
    """DIR/ENV/README.md: how an ops team deploys these files by hand (cfngen.runbook)."""
    # same layer, imported here: cfngen.runbook reads templates with this module's loader
    from cfngen.runbook import runbook as write_runbook

    return write_runbook(env)


def _prepare_out_dir(out_dir: Path) -> bool:
    """Create DIR if needed; True when it was created. A DIR that is a file, or that cannot be
    created or written, is a usage error naming it (exit 2), before anything is written."""
    import os

    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: output path exists and is not a directory")
    created = not out_dir.exists()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"{out_dir}: output path exists and is not a directory") from None
    except NotADirectoryError:
        raise UsageError(f"{out_dir}: a parent of the output path is not a directory") from None
    except OSError as err:
        raise UsageError(f"{out_dir}: cannot create output directory ({err.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise UsageError(f"{out_dir}: output directory is not writable")
    return created


def _foreign_content(target: Path, blueprint: str) -> str | None:
    """Why replacing `target` would lose something: another blueprint's environment, or files
    cfngen did not write there (None when it holds only this blueprint's earlier render)."""
    try:
        present = sorted(p.name for p in target.iterdir())
    except OSError as err:
        return f"cannot be read ({err.strerror})"
    if not present:
        return None
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        owner = manifest["blueprint"]
        ours = {"manifest.json", "README.md"}
        for stack in manifest["stacks"]:
            ours |= {stack["file"], stack["parameters_file"]}
    except (OSError, ValueError, KeyError, TypeError):
        return "holds files that cfngen did not write (no readable manifest.json)"
    if owner != blueprint:
        return f"holds blueprint '{owner}', not '{blueprint}'"
    others = [name for name in present if name not in ours]
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        return f"holds files that cfngen did not write ({shown})"
    return None


def write_environment(env: RenderedEnvironment, out_dir: Path, force: bool = False) -> Path:
    """Write DIR/ENV/ atomically: into a temporary directory, then swapped into place.

    A failure leaves the previous DIR/ENV (or nothing) behind, never a half-written one. A
    DIR/ENV holding another blueprint's environment, or files cfngen did not write, is replaced
    only with `force`.
    """
    import shutil
    import tempfile

    target = out_dir / env.environment
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target}: exists and is not a directory")
    if target.is_dir() and not force:
        reason = _foreign_content(target, env.blueprint)
        if reason:
            raise UsageError(
                f"{target}: {reason}; rendering would replace it. Render into another folder "
                "(-o DIR), or pass --force to replace it"
            )
    created_out = _prepare_out_dir(out_dir)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{env.environment}.", dir=out_dir))
    except OSError as err:
        raise UsageError(
            f"{out_dir}: cannot write into the output directory ({err.strerror})"
        ) from None
    try:
        for s in env.stacks:
            (tmp / s.file).write_text(s.body, encoding="utf-8")
            (tmp / s.params_file).write_text(_params_file(s), encoding="utf-8")
        (tmp / "manifest.json").write_text(
            json.dumps(env.manifest(), indent=2) + "\n", encoding="utf-8"
        )
        (tmp / "README.md").write_text(runbook(env), encoding="utf-8")
        old = None
        if target.exists():
            old = out_dir / f".{env.environment}.old"
            if old.exists():
                shutil.rmtree(old)
            target.rename(old)
        tmp.rename(target)
        if old is not None:
            shutil.rmtree(old)
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if created_out:
            shutil.rmtree(out_dir, ignore_errors=True)
        if isinstance(err, OSError):
            raise UsageError(
                f"{out_dir}: cannot write the rendered files ({err.strerror})"
            ) from None
        raise
    return target
