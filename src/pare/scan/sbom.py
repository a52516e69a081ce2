"""SBOMs of a catalog: CycloneDX 1.6 JSON (cyclonedx-python-lib) and SPDX 2.3 JSON (spdx-tools),
each package with its purl, its licences where the metadata names them, and the layer that added
it. The libraries build and serialise the documents; their full schema validators are quadratic
in the package count (a 2,000-package image takes a minute), so `validate_cyclonedx` and
`validate_spdx` run in the tests on real images instead of in every run."""

from __future__ import annotations

import hashlib
import io
import json
import warnings
from datetime import UTC, datetime
from typing import Any

from pare import __version__
from pare.errors import PareError
from pare.scan.model import Catalog, Package

FORMATS = ("cyclonedx", "spdx")


def _ref(p: Package, index: int) -> str:
    digest = hashlib.sha256(f"{p.ecosystem}\0{p.name}\0{p.version}\0{p.path}".encode()).hexdigest()[:16]
    return f"{p.ecosystem}-{index}-{digest}"


def cyclonedx(catalog: Catalog) -> str:
    from cyclonedx.contrib.license.factories import LicenseFactory
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6
    from packageurl import PackageURL

    bom = Bom()
    bom.metadata.component = Component(name=catalog.image or catalog.digest, version=catalog.digest,
                                       type=ComponentType.CONTAINER, bom_ref="image")
    bom.metadata.tools.components.add(Component(name="pare", version=__version__,
                                                type=ComponentType.APPLICATION))
    licenses = LicenseFactory()
    for i, p in enumerate(catalog.packages):
        props = [Property(name="pare:layer", value=str(p.layer)),
                 Property(name="pare:layer-digest",
                          value=catalog.layers[p.layer] if p.layer < len(catalog.layers) else ""),
                 Property(name="pare:path", value=p.path), Property(name="pare:found-by", value=p.found_by)]
        if p.source and p.source != p.name:
            props.append(Property(name="pare:source", value=f"{p.source} {p.source_version}".strip()))
        bom.components.add(Component(
            name=p.name, version=p.version, type=ComponentType.LIBRARY, bom_ref=_ref(p, i),
            purl=PackageURL.from_string(p.purl) if p.purl else None,
            licenses=_cdx_licenses(licenses, p.licenses), properties=props))
    with warnings.catch_warnings():  # "no dependency graph": pare lists packages, not what needs what
        warnings.simplefilter("ignore", UserWarning)
        return str(JsonV1Dot6(bom).output_as_string(indent=2))


def validate_cyclonedx(text: str) -> None:
    """Check a CycloneDX 1.6 document against the schema (jsonschema; quadratic in the component
    count because of uniqueItems, so the tests run it, not every `pare sbom`)."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    problem = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    if problem is not None:
        raise PareError(f"CycloneDX output failed validation: {problem}")


def _cdx_licenses(factory: Any, texts: tuple[str, ...]) -> list[Any]:
    """CycloneDX allows one expression alone, or any number of named/identified licences."""
    made = [factory.make_from_string(text) for text in texts]
    if len(made) > 1:
        from cyclonedx.model.license import LicenseExpression
        made = [factory.make_with_name(text) if isinstance(m, LicenseExpression) else m
                for m, text in zip(made, texts, strict=True)]
    return made


def spdx(catalog: Catalog) -> str:
    from license_expression import ExpressionError, get_spdx_licensing
    from spdx_tools.spdx.model import (
        Actor,
        ActorType,
        CreationInfo,
        Document,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Relationship,
        RelationshipType,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.model import (
        Package as SpdxPackage,
    )
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    licensing = get_spdx_licensing()
    created = datetime.now(UTC).replace(microsecond=0)
    namespace = f"https://pare.invalid/spdx/{catalog.digest.replace(':', '-')}-{created:%Y%m%dT%H%M%S}"
    info = CreationInfo("SPDX-2.3", "SPDXRef-DOCUMENT", catalog.image or catalog.digest, namespace,
                        [Actor(ActorType.TOOL, f"pare-{__version__}")], created)
    image = SpdxPackage("SPDXRef-Image", catalog.image or catalog.digest, SpdxNoAssertion(),
                        version=catalog.digest, files_analyzed=False, primary_package_purpose=None)
    packages = [image]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-Image")]
    for i, p in enumerate(catalog.packages):
        spdx_id = f"SPDXRef-Package-{_ref(p, i)}"
        declared: object = SpdxNoAssertion()
        if p.licenses:
            try:
                joined = " AND ".join(f"({t})" if " " in t else t for t in p.licenses)
                parsed = licensing.parse(joined, validate=True, strict=True)
                declared = parsed if parsed is not None else SpdxNoAssertion()
            except (ExpressionError, TypeError, ValueError):
                declared = SpdxNoAssertion()  # not SPDX identifiers: said so, not guessed
        category = ExternalPackageRefCategory.PACKAGE_MANAGER
        refs = [ExternalPackageRef(category, "purl", p.purl)] if p.purl else []
        packages.append(SpdxPackage(
            spdx_id, p.name, SpdxNoAssertion(), version=p.version, files_analyzed=False,
            license_concluded=SpdxNoAssertion(), license_declared=declared,
            copyright_text=SpdxNoAssertion(), external_references=refs,
            source_info=f"found by pare ({p.found_by}) at {p.path}, layer {p.layer}"))
        relationships.append(Relationship("SPDXRef-Image", RelationshipType.CONTAINS, spdx_id))
    document = Document(info, packages=packages, relationships=relationships)
    out = io.StringIO()
    write_document_to_stream(document, out, validate=False)
    return json.dumps(json.loads(out.getvalue()), indent=2)


def validate_spdx(text: str) -> None:
    """Parse an SPDX 2.3 JSON document back and run spdx-tools' full validation (quadratic in the
    package count: the tests run it, not every `pare sbom`)."""
    import tempfile

    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    with tempfile.NamedTemporaryFile("w", suffix=".spdx.json") as tmp:
        tmp.write(text)
        tmp.flush()
        document = parse_file(tmp.name)
    errors = validate_full_spdx_document(document)
    if errors:
        raise PareError(f"SPDX output failed validation: {errors[0].validation_message}")


def render(catalog: Catalog, fmt: str) -> str:
    if fmt == "cyclonedx":
        return cyclonedx(catalog)
    if fmt == "spdx":
        return spdx(catalog)
    raise PareError(f"unknown SBOM format {fmt!r} ({' or '.join(FORMATS)})")
