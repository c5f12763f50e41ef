"""Synthetic but realistic REPORT.json data for benchmarks and examples (fictional people)."""

from __future__ import annotations

import random

FIRST = ["Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Krzysztof", "Ewa", "Michał", "Agnieszka", "Jan"]
LAST = ["Nowak", "Kowalska", "Wiśniewski", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański"]
ORGS = ["Stowarzyszenie Przyjaciół Parku Miejskiego", "Fundacja Dobrego Sąsiedztwa", "Klub Sportowy Wisła Wzorowo",
        "Stowarzyszenie Seniorów Aktywnych", "Fundacja Edukacji Obywatelskiej", "Towarzystwo Miłośników Wzorowa"]
UNITS = ["§ 3 ust. 2 pkt 1", "§ 3 ust. 2 pkt 2 lit. b", "§ 5 ust. 2", "§ 5 ust. 3 pkt 2", "§ 6 ust. 1",
         "§ 8 ust. 2 pkt 3", "§ 12", "§ 14 ust. 1"]
CHAPTERS = {"§ 3": "Rozdział II", "§ 5": "Rozdział III", "§ 6": "Rozdział IV", "§ 8": "Rozdział IV",
            "§ 12": "Rozdział IV", "§ 14": "Rozdział V"}
TOPICS = ["finansowanie", "konkursy ofert", "zdrowie", "kultura", "sport", "seniorzy", "ekologia"]
CHANNELS = ["web", "email", "letter", "duty_hours"]
DECISIONS = ["accepted", "partially_accepted", "rejected", "not_considered"]
SENTENCES = [
    "Proponujemy doprecyzowanie zapisu, tak aby obejmował również organizacje działające poniżej roku.",
    "Obecne brzmienie nie uwzględnia potrzeb osób z niepełnosprawnościami w dzielnicach peryferyjnych.",
    "Wnosimy o zwiększenie środków na małe granty do kwoty co najmniej 300 000 zł rocznie.",
    "Termin składania ofert jest zbyt krótki dla małych organizacji prowadzonych przez wolontariuszy.",
    "Należy dodać zadanie dotyczące integracji cudzoziemców i wsparcia ich rodzin.",
    "Zapis jest niejasny i może prowadzić do różnej interpretacji przez komisje konkursowe.",
    "W razie pytań proszę o kontakt pod numerem 601 234 567 lub adresem jan.przykladowy@example.org.",
]
POSITIONS = [
    "Uwaga uwzględniona. Zapis zostanie zmieniony zgodnie z propozycją.",
    "Uwaga nieuwzględniona. Wysokość środków określa uchwała budżetowa, a nie program współpracy.",
    "Uwaga uwzględniona częściowo. Termin zostanie wydłużony do 30 dni, zgodnie z ustawą.",
    "Uwaga nierozpatrzona, ponieważ została zgłoszona po terminie konsultacji.",
]


def consultation() -> dict:
    return {"title": "Konsultacje projektu Programu współpracy z organizacjami pozarządowymi na 2025 rok",
            "stage": "II etap", "document": "Program współpracy Gminy Miasta Wzorowo z organizacjami "
                                            "pozarządowymi na rok 2025",
            "organizer": "Wydział Spraw Społecznych Urzędu Miasta Wzorowo",
            "start": "2024-09-30", "end": "2024-10-21", "channels": CHANNELS,
            "duty_days": [{"date": "2024-10-08", "from": "09:00", "to": "17:00", "place": "sala 34"},
                          {"date": "2024-10-14", "from": "09:00", "to": "17:00", "place": "sala 34"}]}


def comment(index: int, rng: random.Random) -> dict:
    organization = rng.random() < 0.4
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    unit = rng.choice(UNITS)
    paragraph = unit.split(" ust.")[0]
    return {
        "ref": f"K-2024-{index:06d}",
        "submitter": {"name": name, "organization": rng.choice(ORGS) if organization else "",
                      "kind": "organization" if organization else "person",
                      "publish_consent": rng.random() < 0.3},
        "unit_label": unit, "chapter": CHAPTERS[paragraph],
        "comment": " ".join(rng.sample(SENTENCES, 3)),
        "proposal": "Proponowane brzmienie: „" + rng.choice(SENTENCES) + "”",
        "justification": " ".join(rng.sample(SENTENCES, 2)),
        "channel": rng.choice(CHANNELS), "topic": rng.choice(TOPICS), "decision": rng.choice(DECISIONS),
        "position": rng.choice(POSITIONS),
    }


def make_report_json(count: int, seed: int = 2024) -> dict:
    rng = random.Random(seed)
    return {"consultation": consultation(), "comments": [comment(index, rng) for index in range(1, count + 1)]}
