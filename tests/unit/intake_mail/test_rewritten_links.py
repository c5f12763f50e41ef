"""A mailbox behind Microsoft Defender's Safe Links or Proofpoint's URL Defense gets every address in a mail
rewritten to one on the gateway's server; the address the sender wrote is given back, in the text staff read and
the report publishes. The rewritten addresses below are real, from public mailing-list mails (named beside each);
what each stands for was read from it, not from our code."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from services.intake.mail.links import original_links, shared_files
from services.intake.mail.parse import parse_mail

SAFE_LINKS_BUGZILLA = (  # stable@vger.kernel.org, 30 August 2022 (amd.com's Exchange Online)
    "https://nam11.safelinks.protection.outlook.com/?url=https%3A%2F%2Fbugzilla.kernel.org%2Fshow_bug.cgi%3Fid%3D"
    "216373&amp;data=05%7C01%7Clijo.lazar%40amd.com%7Cbe8781fe1b0c41d3bad408da8a99b3d8%7C3dd8961fe4884e608e11a82d99"
    "4e183d%7C0%7C0%7C637974690005710507%7CUnknown%7CTWFpbGZsb3d8eyJWIjoiMC4wLjAwMDAiLCJQIjoiV2luMzIiLCJBTiI6Ik1ha"
    "WwiLCJXVCI6Mn0%3D%7C3000%7C%7C%7C&amp;sdata=98WWFEcwi2tzyf%2BxnYC%2FK3UcCE5mfXI00qfYGUpt2Sk%3D&amp;reserved=0")
SAFE_LINKS_LIST = (  # amd-gfx, 2020 (the list footer as amd.com's Exchange Online rewrote it)
    "https://nam11.safelinks.protection.outlook.com/?url=https%3A%2F%2Flists.freedesktop.org%2Fmailman%2Flistinfo%2F"
    "amd-gfx&amp;data=02%7C01%7CShaoyun.Liu%40amd.com%7C0cd26307c0a149ebe0bd08d7e6cc84b1%7C3dd8961fe4884e608e11a82d9"
    "94e183d%7C0%7C0%7C637231638419034830&amp;sdata=rxkhyMutFwbe5Nw%2BeBGiESW9wTdflDUo%2F4xEvbCbR6U%3D&amp;reserved=0")
PROOFPOINT_V2 = (  # ceph-devel, 28 March 2025
    "https://urldefense.proofpoint.com/v2/url?u=https-3A__lore.kernel.org_r_202503280852.YDB3pxUY-2Dlkp-40intel.com_"
    "&d=DwIBAg&c=BSDicqBQBDjDI9RkVyTcHQ&r=q5bIm4AXMzc8NJu1_RGmnQ2fMWKq4Y4RAkElvUgSs00&m=Ud7uNdqBY_Z7LJ_oI4fwdhvxOYt_5Q"
    "58tpkMQgDWhV3199_TCnINFU28Esc0BaAH&s=QOKWZ9HKLyd6XCxW-AUoKiFFg9roId6LOM01202zAk0&e=")
PROOFPOINT_V3 = (  # linux-kernel, December 2025 (oracle.com's gateway)
    "https://urldefense.com/v3/__https://lore.kernel.org/r/20251216002150.GA11579@quark__;!!ACWV5N9M2RV99hQ!NYVuWrBT"
    "2adow7b4eijfE5vI_FKAu7wblBsmNDxouC58woEhQhR4m9sOXOpa9xBoUtLLinpXb3T_AUGlTF-nUG5IjA9SszJw7g8$")


@pytest.mark.parametrize("rewritten, original", [
    (SAFE_LINKS_BUGZILLA, "https://bugzilla.kernel.org/show_bug.cgi?id=216373"),
    (SAFE_LINKS_LIST, "https://lists.freedesktop.org/mailman/listinfo/amd-gfx"),
    (PROOFPOINT_V2, "https://lore.kernel.org/r/202503280852.YDB3pxUY-lkp@intel.com/"),
    (PROOFPOINT_V3, "https://lore.kernel.org/r/20251216002150.GA11579@quark"),
])
def test_a_rewritten_address_is_given_back_as_the_sender_wrote_it(rewritten, original):
    tail = "\nCc: stable@vger.kernel.org"
    assert original_links(f"Link: {rewritten}{tail}") == f"Link: {original}{tail}"
    assert original_links(f"Zob. <{rewritten}>.") == f"Zob. <{original}>."


def test_what_cannot_be_given_back_exactly_stays_as_it_came():
    kept = [
        "https://urldefense.com/v3/__https://example.org/a*b__;Jw!!ACWV5N9M2RV99hQ!x$",  # "*": a character kept apart
        "https://eur02.safelinks.protection.outlook.com/?url=javascript%3Aalert(1)&data=x",  # not a web address
        "https://eur02.safelinks.protection.outlook.com.example.org/?url=https%3A%2F%2Fa.pl",  # not Microsoft's host
        "Proszę o zmianę § 3 ust. 2 (bez linków).",
    ]
    for text in kept:
        assert original_links(text) == text


def test_a_onedrive_form_behind_safe_links_is_known_for_a_shared_file_and_the_body_reads_clean():
    onedrive = "https://um-torun-my.sharepoint.com/:w:/g/personal/a_nowak/Formularz_uwag.docx?e=Ab12Cd"
    wrapped = (f"https://eur02.safelinks.protection.outlook.com/?url={quote(onedrive, safe='')}"
               "&data=05%7C02%7Ckonsultacje%40um.torun.pl%7C0%7C638943027585856649&sdata=x%2By%3D&reserved=0")
    raw = ("From: Anna Nowak <anna@example.org>\r\nSubject: Uwagi\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
           f"Formularz z uwagami: {wrapped}\r\n").encode()
    body = parse_mail(raw).body_text
    assert body == f"Formularz z uwagami: {onedrive}"
    assert [found.name for found in shared_files(body)] == ["Formularz_uwag.docx"]
