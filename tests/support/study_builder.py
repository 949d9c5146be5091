"""Small cBioPortal study folders written in code, for loader tests."""

from __future__ import annotations

from pathlib import Path

PATIENT_HEADER = [
    "#Patient Identifier\tAge\tER\tHormone\tRFS months\tRFS status\tOS months\tOS status",
    "#Identifier\tAge at diagnosis\tER status\tHormone therapy\tRFS\tRFS\tOS\tOS",
    "#STRING\tNUMBER\tSTRING\tSTRING\tNUMBER\tSTRING\tNUMBER\tSTRING",
    "#1\t1\t1\t1\t1\t1\t1\t1",
]
PATIENT_COLUMNS = ["PATIENT_ID", "AGE_AT_DIAGNOSIS", "ER_IHC", "HORMONE_THERAPY", "RFS_MONTHS",
                   "RFS_STATUS", "OS_MONTHS", "OS_STATUS"]
PATIENT_ROWS = [
    ["P1", "61.5", "Positve", "YES", "12.5", "1:Recurred", "40", "1:DECEASED"],
    ["P2", "45", "Negative", "NO", "80", "0:Not Recurred", "80", "0:LIVING"],
    ["P3", "70", "pos", "YES", "", "1:Recurred", "30", "0:LIVING"],
    ["P4", "[Not Available]", "", "NA", "24", "0:Not Recurred", "24", "0:LIVING"],
]
SAMPLE_COLUMNS = ["PATIENT_ID", "SAMPLE_ID", "SAMPLE_TYPE", "ER_STATUS", "PR_STATUS",
                  "HER2_STATUS", "GRADE", "TUMOR_SIZE", "TUMOR_STAGE", "TMB_NONSYNONYMOUS"]
SAMPLE_ROWS = [
    ["P1", "S1", "Primary", "Positive", "Positive", "Negative", "2", "22", "2", "1.3"],
    ["P1", "S1M", "Metastasis", "Positive", "Negative", "Negative", "", "", "", "5.2"],
    ["P2", "S2", "Primary", "Negative", "Negative", "Negative", "3", "31", "IIB", "2.6"],
    ["P3", "S3", "Primary", "Positive", "Positive", "Positive", "1", "15", "1", "0"],
    ["P4", "S4", "Primary", "Positive", "Positive", "Negative", "2", "40", "Stage III", ""],
]
MAF_COLUMNS = ["Hugo_Symbol", "Entrez_Gene_Id", "Variant_Classification", "Tumor_Sample_Barcode",
               "HGVSp_Short", "t_ref_count", "t_alt_count"]
MAF_ROWS = [
    ["PIK3CA", "5290", "Missense_Mutation", "S1", "p.H1047R", "60", "40"],
    ["TP53", "7157", "Nonsense_Mutation", "S2", "p.R213*", "10", "30"],
    ["ESR1", "2099", "Missense_Mutation", "S1M", "p.D538G", "", ""],
    ["MLL3", "58508", "Frame_Shift_Del", "S3", "p.K2797Rfs*26", "20", "20"],
    ["CDH1", "999", "Silent", "S3", "p.L100L", "50", "50"],
    ["Unknown", "0", "IGR", "S4", "", "", ""],
]


def write_table(path: Path, columns: list[str], rows: list[list[str]],
                header: list[str] | None = None, newline: str = "\n") -> Path:
    """Write a tab-separated file with optional leading ``#`` lines."""
    lines = [*(header or []), "\t".join(columns), *("\t".join(r) for r in rows)]
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


def write_study(folder: Path, *, newline: str = "\n", with_meta_header: bool = True) -> Path:
    """A 4-patient, 5-sample study with mutations, CNA, two gene panels and a panel matrix."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "meta_study.txt").write_text(
        "type_of_cancer: brca\ncancer_study_identifier: tiny_study\nname: Tiny study\n"
        "description: four patients\n"
    )
    write_table(folder / "data_clinical_patient.txt", PATIENT_COLUMNS, PATIENT_ROWS,
                PATIENT_HEADER if with_meta_header else None, newline)
    write_table(folder / "data_clinical_sample.txt", SAMPLE_COLUMNS, SAMPLE_ROWS,
                newline=newline)
    maf = write_table(folder / "data_mutations_extended.txt", MAF_COLUMNS, MAF_ROWS,
                      ["#version 2.4"], newline)
    assert maf.exists()
    write_table(folder / "data_cna.txt", ["Hugo_Symbol", "S1", "S1M", "S2", "S3"], [
        ["MYC", "2", "2", "0", "NA"],
        ["MDM4", "0", "1.5", "0", "0"],
        ["PTEN", "-2", "0", "-1", "0"],
    ], newline=newline)
    write_table(folder / "data_gene_matrix.txt", ["SAMPLE_ID", "mutations", "cna"], [
        ["S1", "PANEL_A", "PANEL_A"],
        ["S1M", "PANEL_B", "PANEL_B"],
        ["S2", "PANEL_A", "PANEL_A"],
        ["S3", "PANEL_A", "PANEL_A"],
        ["S4", "NA", "NA"],
    ], newline=newline)
    (folder / "data_gene_panel_a.txt").write_text(
        "stable_id: PANEL_A\ndescription: small\n"
        "gene_list: PIK3CA\tTP53\tMLL3\tCDH1\tMYC\tMDM4\tPTEN\n"
    )
    (folder / "data_gene_panel_b.txt").write_text(
        "stable_id: PANEL_B\ndescription: with ESR1\n"
        "gene_list: PIK3CA\tTP53\tESR1\tMYC\tMDM4\tPTEN\n"
    )
    return folder
