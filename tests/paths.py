"""Where the tests find the repository, the sample corpus and the shared fixtures."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"
NIST_PDF = SHARED_FIXTURES / "NIST.AI.100-1.pdf"
PLAYBOOK_PDF = SHARED_FIXTURES / "AI_RMF_Playbook.pdf"
