"""Yelp categories -> our leaf service categories: one explicit, reviewable table.

Order matters: a business's primary category is the first row below that one of its Yelp categories
maps to, and the other matches become its extra categories. Rows run from what a visitor comes for
(a meal, a haircut, a tyre) to the broad ("Restaurants" with no cuisine named), so a pub that also
hosts karaoke stays a restaurant, while a bar that is only a karaoke bar becomes KTV.

Deliberately unmapped, so such businesses are rejected rather than filed under a wrong service:
bars and nightlife, groceries and other shops, hotels, and parents as broad as "Food", "Nightlife",
"Active Life" or "Event Planning & Services". A store's primary category drives nearby search and
the product -> service links; a bar listed as a restaurant would mislead both. Re-importing after
a row is added here picks those businesses up (the import is idempotent).

The dining tree has no leaves for Japanese, Korean, South-East Asian or Indian food yet, so those
cuisines, like every other non-Chinese sit-down one, go to `dining.western` ("not Chinese").
"""

from typing import NamedTuple

# (our leaf, Yelp categories) in order of preference.
MAPPING: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Services people come for; specific ones first.
    ("auto_service.oil_change", ("Oil Change Stations",)),
    ("auto_service.tyre_fitting", ("Tires", "Wheel & Rim Repair")),
    ("auto_service.car_wash", ("Car Wash", "Auto Detailing")),
    ("auto_service.repair", ("Auto Repair", "Body Shops", "Auto Glass Services", "Transmission Repair",
                             "Smog Check Stations")),
    ("beauty_service.nail", ("Nail Salons", "Nail Technicians")),
    ("beauty_service.hair", ("Hair Salons", "Barbers", "Hair Stylists", "Blow Dry/Out Services",
                             "Hair Extensions", "Men's Hair Salons")),
    ("beauty_service.salon", ("Day Spas", "Skin Care", "Eyelash Service", "Waxing", "Hair Removal",
                              "Makeup Artists", "Medical Spas")),
    ("leisure.massage", ("Massage", "Reflexology", "Massage Therapy")),
    ("leisure.cinema", ("Cinema",)),
    ("wedding_service.photo", ("Photographers", "Event Photography", "Session Photography")),
    ("wedding_service.planning", ("Wedding Planning",)),
    ("fitness.pingpong", ("Table Tennis",)),
    ("fitness.badminton", ("Badminton",)),
    ("fitness.gym", ("Gyms", "Fitness & Instruction", "Trainers", "Yoga", "Pilates", "Boxing",
                     "Martial Arts", "Cardio Classes", "Cycling Classes")),
    ("life_service.moving", ("Movers",)),
    ("life_service.cleaning", ("Home Cleaning", "Carpet Cleaning", "Window Washing")),
    ("life_service.laundry", ("Dry Cleaning & Laundry", "Laundry Services", "Laundromat", "Dry Cleaning")),
    ("pet_service.grooming", ("Pet Groomers",)),
    ("pet_service.hospital", ("Veterinarians", "Emergency Pet Hospital")),
    # Meals: a named cuisine or format.
    ("dining.hotpot", ("Hot Pot", "Fondue")),
    ("dining.chinese", ("Chinese", "Dim Sum", "Cantonese", "Szechuan", "Shanghainese", "Taiwanese", "Hakka")),
    ("dining.fastfood", ("Fast Food", "Burgers", "Hot Dogs", "Chicken Wings", "Food Stands", "Fish & Chips",
                         "Food Trucks")),
    ("dining.western", (
        "American (Traditional)", "American (New)", "Italian", "French", "Seafood", "Steakhouses", "Mexican",
        "Tex-Mex", "Latin American", "Mediterranean", "Greek", "Spanish", "Tapas Bars", "Tapas/Small Plates",
        "Portuguese", "Basque", "Irish", "British", "German", "Belgian", "Polish", "Modern European", "Brazilian",
        "Cuban", "Peruvian", "Caribbean", "Southern", "Soul Food", "Cajun/Creole", "Barbeque", "Diners",
        "Breakfast & Brunch", "Gastropubs", "Buffets", "Middle Eastern", "Moroccan", "Turkish", "Persian/Iranian",
        "Afghan", "African", "Ethiopian", "Japanese", "Sushi Bars", "Korean", "Thai", "Vietnamese",
        "Asian Fusion", "Malaysian", "Cambodian", "Burmese", "Mongolian", "Indian", "Pakistani",
        "Himalayan/Nepalese",
    )),
    ("dining.fastfood", ("Pizza", "Sandwiches", "Delis", "Delicatessen", "Soup")),
    # Drinks and sweets.
    ("dining.cafe", ("Coffee & Tea", "Cafes", "Tea Rooms", "Juice Bars & Smoothies", "Bubble Tea", "Internet Cafes")),
    ("dining.bakery", ("Bakeries", "Desserts", "Donuts", "Ice Cream & Frozen Yogurt", "Patisserie/Cake Shop",
                       "Cupcakes", "Creperies", "Gelato", "Shaved Ice", "Bagels")),
    # Places more than services: only when nothing more telling matched.
    ("leisure.ktv", ("Karaoke",)),
    ("wedding_service.banquet", ("Venues & Event Spaces",)),
    # The broad fallback: a restaurant that names no cuisine we map.
    ("dining.western", ("Restaurants",)),
)

MAX_CATEGORIES = 4  # primary plus up to three more; a long tail of tags adds noise, not findability

_RANK: dict[str, tuple[int, str]] = {}
for _rank, (_leaf, _names) in enumerate(MAPPING):
    for _name in _names:
        _RANK.setdefault(_name.casefold(), (_rank, _leaf))


class Mapped(NamedTuple):
    primary: str | None
    categories: list[str]  # primary first, no repeats


def target_codes() -> set[str]:
    return {leaf for leaf, _ in MAPPING}


def map_categories(yelp_categories: list[str]) -> Mapped:
    """Our categories for a business's Yelp categories; primary None when none of them maps."""
    hits = sorted({_RANK[c.casefold()] for c in yelp_categories if c.casefold() in _RANK})
    leaves: list[str] = []
    for _, leaf in hits:
        if leaf not in leaves:
            leaves.append(leaf)
    leaves = leaves[:MAX_CATEGORIES]
    return Mapped(leaves[0] if leaves else None, leaves)
