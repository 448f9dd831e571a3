"""The trades and sectors a new community starts with, in its locale."""

DEFAULT_TRADES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Développement",
        "Design graphique",
        "Rédaction web",
        "SEO / SEA",
        "Photographie",
        "Vidéo / motion design",
        "UX / UI design",
        "Marketing & communication",
        "Traduction",
        "Conseil",
    ),
    "en": (
        "Development",
        "Graphic design",
        "Web writing",
        "SEO / SEA",
        "Photography",
        "Video / motion design",
        "UX / UI design",
        "Marketing & communication",
        "Translation",
        "Consulting",
    ),
}

DEFAULT_SECTORS: dict[str, tuple[str, ...]] = {
    "fr": (
        "Mode",
        "Sport",
        "Culture & médias",
        "Développement durable",
        "Santé",
        "Tech",
        "Tourisme",
        "Associatif",
        "Alimentation",
        "Immobilier",
    ),
    "en": (
        "Fashion",
        "Sport",
        "Culture & media",
        "Sustainability",
        "Health",
        "Tech",
        "Tourism",
        "Non-profit",
        "Food",
        "Real estate",
    ),
}
