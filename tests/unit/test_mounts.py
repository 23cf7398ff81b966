"""Tests for viggle_watch.watch.mounts: reading the mount table and choosing native or polling."""

from __future__ import annotations

from pathlib import Path

import pytest

from viggle_watch.watch.mounts import (
    Mount,
    ObserverChoice,
    ObserverSetting,
    choose_observer,
    is_network_fs,
    mount_for,
    parse_mounts,
    read_mounts,
)

# A studio host: local root and data disks, a NAS over NFS and SMB, an sshfs and an rclone
# remote, a USB NTFS disk, Docker's overlay, and a share whose name has a space in it.
TABLE = """\
/dev/nvme0n1p2 / ext4 rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
tmpfs /run tmpfs rw,nosuid,nodev,size=3262164k,mode=755 0 0
/dev/sda1 /srv xfs rw,relatime 0 0
nas.local:/volume1/renders /mnt/nas nfs4 rw,relatime,vers=4.1,addr=10.0.0.5 0 0
/dev/sdb1 /mnt/nas/cache ext4 rw,relatime 0 0
//nas.local/Studio\\040Drops /mnt/studio\\040drops cifs rw,relatime,vers=3.1.1 0 0
artist@render:/home/artist/in /mnt/render fuse.sshfs rw,nosuid,nodev,user_id=1000 0 0
gdrive: /mnt/gdrive fuse.rclone rw,nosuid,nodev,user_id=1000 0 0
/dev/sdc1 /media/usb fuseblk rw,nosuid,nodev,user_id=0,allow_other 0 0
overlay /var/lib/docker/overlay2/x overlay rw,lowerdir=/l,upperdir=/u,workdir=/w 0 0
tmpfs /tmp tmpfs rw,nosuid,nodev 0 0
"""


def mounts() -> list[Mount]:
    """The parsed studio table."""
    return parse_mounts(TABLE)


def test_parse_reads_every_line_in_order() -> None:
    """Each line becomes a Mount with point, type and source, in table order."""
    assert [(str(m.point), m.fstype) for m in mounts()] == [
        ("/", "ext4"),
        ("/proc", "proc"),
        ("/run", "tmpfs"),
        ("/srv", "xfs"),
        ("/mnt/nas", "nfs4"),
        ("/mnt/nas/cache", "ext4"),
        ("/mnt/studio drops", "cifs"),
        ("/mnt/render", "fuse.sshfs"),
        ("/mnt/gdrive", "fuse.rclone"),
        ("/media/usb", "fuseblk"),
        ("/var/lib/docker/overlay2/x", "overlay"),
        ("/tmp", "tmpfs"),
    ]


def test_parse_decodes_octal_escapes_in_point_and_source() -> None:
    """``\\040`` is a space, ``\\011`` a tab, ``\\134`` a backslash (the kernel's escapes)."""
    text = "//nas/a\\040b /mnt/a\\040b\\011c\\134d cifs rw 0 0\n"
    assert parse_mounts(text) == [Mount(Path("/mnt/a b\tc\\d"), "cifs", "//nas/a b")]


def test_parse_skips_blank_and_short_lines() -> None:
    """A truncated or empty line is skipped, the rest still parsed."""
    text = "\n/dev/vda\n/dev/vda / ext4 rw 0 0\n   \n"
    assert parse_mounts(text) == [Mount(Path("/"), "ext4", "/dev/vda")]


def test_parse_of_nothing_is_empty() -> None:
    """An unreadable table ("") gives no mounts."""
    assert parse_mounts("") == []


@pytest.mark.parametrize(
    ("path", "point"),
    [
        ("/home/artist/in", "/"),
        ("/srv/viggle/in", "/srv"),
        ("/srv", "/srv"),
        ("/srvx/in", "/"),  # a prefix of the name is not a prefix of the path
        ("/mnt/nas/drops", "/mnt/nas"),
        ("/mnt/nas/cache/in", "/mnt/nas/cache"),  # nested mount: the longest point wins
        ("/mnt/studio drops/in", "/mnt/studio drops"),
        ("/mnt/nas/cache/../drops", "/mnt/nas"),  # normalised before matching
    ],
)
def test_mount_for_takes_the_longest_mount_point_prefix(path: str, point: str) -> None:
    """The mount holding a path is the deepest mount point above it."""
    found = mount_for(Path(path), mounts())
    assert found is not None and found.point == Path(point)


def test_mount_for_prefers_the_later_of_two_mounts_on_one_point() -> None:
    """Mounting over a point hides the earlier mount: the last line wins."""
    text = "/dev/sda1 /data ext4 rw 0 0\nnas:/data /data nfs rw 0 0\n"
    assert mount_for(Path("/data/in"), parse_mounts(text)) == Mount(
        Path("/data"), "nfs", "nas:/data"
    )


def test_mount_for_without_a_table_is_none() -> None:
    """No mounts known: no answer."""
    assert mount_for(Path("/srv/in"), []) is None


@pytest.mark.parametrize(
    ("fstype", "network"),
    [
        ("nfs", True),
        ("nfs4", True),
        ("cifs", True),
        ("smb3", True),
        ("smbfs", True),
        ("9p", True),
        ("ceph", True),
        ("glusterfs", True),
        ("afs", True),
        ("sshfs", True),
        ("fuse", True),
        ("fuse.sshfs", True),
        ("fuse.rclone", True),
        ("fuse.s3fs", True),
        ("fuseblk", False),
        ("ext4", False),
        ("xfs", False),
        ("btrfs", False),
        ("zfs", False),
        ("tmpfs", False),
        ("overlay", False),
    ],
)
def test_is_network_fs(fstype: str, network: bool) -> None:
    """Network and FUSE types are remote; fuseblk (local NTFS/exFAT) and disks are not."""
    assert is_network_fs(fstype) is network


POLL_NFS = "/mnt/nas is nfs4: inotify does not see other hosts' writes, polling every 5 s"


@pytest.mark.parametrize(
    ("path", "setting", "expected"),
    [
        ("/srv/in", "auto", ObserverChoice("native", "local xfs")),
        ("/tmp/in", "auto", ObserverChoice("native", "local tmpfs")),
        (
            "/var/lib/docker/overlay2/x/in",
            "auto",
            ObserverChoice("native", "local overlay"),
        ),
        ("/media/usb/in", "auto", ObserverChoice("native", "local fuseblk")),
        ("/mnt/nas/cache/in", "auto", ObserverChoice("native", "local ext4")),
        ("/mnt/nas/in", "auto", ObserverChoice("polling", POLL_NFS)),
        (
            "/mnt/studio drops/in",
            "auto",
            ObserverChoice(
                "polling",
                "/mnt/studio drops is cifs: inotify does not see other hosts' writes,"
                " polling every 5 s",
            ),
        ),
        (
            "/mnt/render/in",
            "auto",
            ObserverChoice(
                "polling",
                "/mnt/render is fuse.sshfs: inotify does not see other hosts' writes,"
                " polling every 5 s",
            ),
        ),
        (
            "/srv/in",
            "polling",
            ObserverChoice("polling", "polling every 5 s: set in config (local xfs)"),
        ),
        (
            "/mnt/nas/in",
            "polling",
            ObserverChoice("polling", "polling every 5 s: set in config (/mnt/nas is nfs4)"),
        ),
        ("/srv/in", "native", ObserverChoice("native", "native: set in config (local xfs)")),
        (
            "/mnt/nas/in",
            "native",
            ObserverChoice(
                "native",
                "native: set in config, but /mnt/nas is nfs4: files written by other hosts"
                " are missed until the next rescan",
                warning=True,
            ),
        ),
    ],
)
def test_choose_observer(path: str, setting: ObserverSetting, expected: ObserverChoice) -> None:
    """auto polls on network filesystems only; explicit settings are obeyed, with a reason."""
    assert choose_observer(Path(path), setting, mounts()) == expected


def test_choose_observer_reason_names_the_poll_interval() -> None:
    """The reason gives the interval the root will actually be polled at."""
    choice = choose_observer(Path("/mnt/gdrive/in"), "auto", mounts(), poll_interval_s=2.5)
    assert choice == ObserverChoice(
        "polling",
        "/mnt/gdrive is fuse.rclone: inotify does not see other hosts' writes, polling every 2.5 s",
    )


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (
            "auto",
            ObserverChoice("native", "filesystem not in the mount table: assuming local, native"),
        ),
        (
            "native",
            ObserverChoice("native", "native: set in config (filesystem not in the mount table)"),
        ),
        (
            "polling",
            ObserverChoice(
                "polling", "polling every 5 s: set in config (filesystem not in the mount table)"
            ),
        ),
    ],
)
def test_choose_observer_without_a_mount_table(
    setting: ObserverSetting, expected: ObserverChoice
) -> None:
    """No /proc (not Linux): auto assumes a local disk and says so."""
    assert choose_observer(Path("/srv/in"), setting, []) == expected


def test_read_mounts_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    """An unreadable mount table reads as ""."""
    assert read_mounts(tmp_path / "no-such-mounts") == ""


def test_read_mounts_returns_the_file_text(tmp_path: Path) -> None:
    """The table's text comes back unchanged, for parse_mounts to read."""
    table = tmp_path / "mounts"
    table.write_text(TABLE, encoding="utf-8")
    assert parse_mounts(read_mounts(table)) == mounts()
