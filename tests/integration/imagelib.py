"""Builders of container image archives for the tests: layer tarballs from
entry lists, docker-archive tarballs as `docker save` writes them, and OCI
image layouts as tarballs or directories. Nothing here checks its input, so
the tests can build hostile archives too."""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile


def file_entry(name, data, mode=0o644):
    return {"name": name, "type": tarfile.REGTYPE, "data": data, "mode": mode}


def dir_entry(name, mode=0o755):
    return {"name": name, "type": tarfile.DIRTYPE, "mode": mode}


def symlink_entry(name, target):
    return {"name": name, "type": tarfile.SYMTYPE, "linkname": target, "mode": 0o777}


def hardlink_entry(name, target):
    return {"name": name, "type": tarfile.LNKTYPE, "linkname": target, "mode": 0o644}


def device_entry(name, kind=tarfile.CHRTYPE, major=1, minor=3):
    return {"name": name, "type": kind, "mode": 0o666, "major": major, "minor": minor}


def layer_tar(entries):
    """Return the bytes of an uncompressed PAX tar stream of entries."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry["name"])
            info.type = entry["type"]
            info.mode = entry.get("mode", 0o644)
            info.mtime = 1700000000
            info.linkname = entry.get("linkname", "")
            info.devmajor = entry.get("major", 0)
            info.devminor = entry.get("minor", 0)
            data = entry.get("data", b"")
            if isinstance(data, str):
                data = data.encode()
            info.size = len(data) if entry["type"] == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if info.size else None)
    return out.getvalue()


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data, encoding):
    """Compress a layer: "tar" (none), "gzip" or "zstd" (with the zstd
    program, which must exist)."""
    if encoding == "tar":
        return data
    if encoding == "gzip":
        return gzip.compress(data, mtime=0)
    if encoding == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True,
                              check=True).stdout
    raise ValueError(encoding)


def image_config(layers, diff_ids=True):
    config = {"architecture": "amd64", "os": "linux",
              "config": {"Env": ["PATH=/usr/bin:/bin"]},
              "rootfs": {"type": "layers", "diff_ids": []}}
    if diff_ids:
        config["rootfs"]["diff_ids"] = [sha256(layer) for layer in layers]
    return json.dumps(config, sort_keys=True).encode()


def write_tar(path, members):
    """Write an outer archive of (name, bytes) members."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1700000000
            tar.addfile(info, io.BytesIO(data))


def docker_archive(path, layers, tags=("example.com/app:1.0",), diff_ids=True,
                   config_layers=None):
    """Write a classic docker-archive of uncompressed layer tarballs (bytes)
    and return the image ID (the config digest). The config lists the
    diff_ids of config_layers when given, of layers otherwise."""
    config = image_config(config_layers or layers, diff_ids)
    config_hex = hashlib.sha256(config).hexdigest()
    members = [(config_hex + ".json", config)]
    layer_names = []
    for index, layer in enumerate(layers):
        name = "%064x/layer.tar" % (index + 1)
        layer_names.append(name)
        members.append((name, layer))
    manifest = [{"Config": config_hex + ".json", "RepoTags": list(tags), "Layers": layer_names}]
    members.insert(0, ("manifest.json", json.dumps(manifest).encode()))
    write_tar(path, members)
    return "sha256:" + config_hex


def oci_layout(layers, encoding="gzip", name="example.com/app:1.0"):
    """Return (members, manifest digest) of an OCI image layout whose layers
    are the given uncompressed tarballs, stored with encoding."""
    media = {"tar": "application/vnd.oci.image.layer.v1.tar",
             "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
             "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}[encoding]
    blobs = {}

    def add_blob(data):
        digest = sha256(data)
        blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    config = image_config(layers)
    config_desc = dict(add_blob(config), mediaType="application/vnd.oci.image.config.v1+json")
    layer_descs = [dict(add_blob(compress(layer, encoding)), mediaType=media)
                   for layer in layers]
    manifest = json.dumps({"schemaVersion": 2,
                           "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": config_desc, "layers": layer_descs},
                          sort_keys=True).encode()
    manifest_desc = dict(add_blob(manifest),
                         mediaType="application/vnd.oci.image.manifest.v1+json",
                         annotations={"io.containerd.image.name": name,
                                      "org.opencontainers.image.ref.name": "1.0"},
                         platform={"os": "linux", "architecture": "amd64"})
    index = json.dumps({"schemaVersion": 2,
                        "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [manifest_desc]}, sort_keys=True).encode()
    members = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)]
    for digest, data in sorted(blobs.items()):
        members.append(("blobs/sha256/" + digest.split(":")[1], data))
    return members, manifest_desc["digest"]


def oci_archive(path, layers, encoding="gzip"):
    members, digest = oci_layout(layers, encoding)
    write_tar(path, members)
    return digest


def oci_dir(path, layers, encoding="gzip"):
    members, digest = oci_layout(layers, encoding)
    if os.path.exists(path):
        shutil.rmtree(path)
    for name, data in members:
        full = os.path.join(path, name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
    return digest


def multi_platform_layout(path, images):
    """Write an OCI layout tarball whose index.json points to a nested index
    of one image per (platform, layers) pair, plus a Docker attestation
    manifest, as `docker buildx` writes them. Return the manifest digest of
    each platform."""
    members = {}
    descs = []
    for platform, layers in images:
        single, digest = oci_layout(layers, "gzip")
        for name, data in single:
            if name.startswith("blobs/"):
                members[name] = data
        manifest = members["blobs/sha256/" + digest[7:]]
        os_name, arch = platform.split("/")
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "digest": digest, "size": len(manifest),
                      "platform": {"os": os_name, "architecture": arch}})
    attestation = json.dumps({"schemaVersion": 2, "config": {}, "layers": []}).encode()
    members["blobs/sha256/" + sha256(attestation)[7:]] = attestation
    descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "digest": sha256(attestation), "size": len(attestation),
                  "platform": {"os": "unknown", "architecture": "unknown"},
                  "annotations": {"vnd.docker.reference.type": "attestation-manifest"}})
    nested = json.dumps({"schemaVersion": 2,
                         "mediaType": "application/vnd.oci.image.index.v1+json",
                         "manifests": descs}).encode()
    members["blobs/sha256/" + sha256(nested)[7:]] = nested
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha256(nested),
        "size": len(nested),
        "annotations": {"io.containerd.image.name": "example.com/multi:2.0"}}]}).encode()
    write_tar(path, [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)] +
              sorted(members.items()))
    return {platform: desc["digest"] for (platform, _), desc in zip(images, descs)}
