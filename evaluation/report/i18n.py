"""Page text in Dutch (default) and English: `text(key, lang)`.

Keys are short names; every visible word on a page comes from here (or from the analysis files),
so adding a language is adding a column.
"""

from __future__ import annotations

from evaluation.report.i18n_messages import PAGE_MESSAGES

STRINGS: dict[str, tuple[str, str]] = {
    # portfolio page
    "portfolio_title": ("Portefeuille: interventies tegen explosies",
                        "Portfolio: interventions against explosive attacks"),
    "portfolio_intro": ("Per interventie staat hieronder het oordeel volgens de vastgelegde "
                        "beslisregel en de soort bewijs: vooraf geregistreerd, geregistreerd vóór de "
                        "uitkomstdata, achteraf geregistreerd of verkennend. Verkennende analyses "
                        "geven geen oordeel en tellen niet mee in de correctie voor meerdere toetsen.",
                        "Below is each intervention's verdict under its registered decision rule "
                        "and the kind of evidence: prospective, registered before outcome data, "
                        "retrospective or exploratory. Exploratory analyses give no verdict and "
                        "are left out of the multiple-testing correction."),
    "national_title": ("Landelijke voortgang", "National progress"),
    "national_missing": ("Landelijke cijfers zijn niet beschikbaar", "National figures are not available"),
    "forest_title": ("Effecten per interventie", "Effects per intervention"),
    "forest_caption": ("Rate ratio per interventie met interval (logaritmische schaal; niveau per regel in de tabel). Links "
                       "van de doorgetrokken lijn: minder aanslagen; links van de rode stippellijn: "
                       "minstens de vooraf vastgelegde minimale daling.",
                       "Rate ratio per intervention with interval (log scale; level per line in the table). Left of the "
                       "solid line: fewer attacks; left of the red dashed line: at least the "
                       "registered minimum reduction."),
    "forest_none": ("Er zijn nog geen effecten op de rate-ratioschaal om te tonen.",
                    "There are no rate-ratio effects to show yet."),
    "table_title": ("Oordelen", "Verdicts"),
    "no_analyses": ("Er zijn nog geen analyses. Draai `evaluation analyse --all`.",
                    "There are no analyses yet. Run `evaluation analyse --all`."),
    "no_portfolio": ("analyses/portfolio.json ontbreekt; de tabel is uit de losse analyses gelezen "
                     "en landelijke cijfers ontbreken. Draai `evaluation analyse --all`.",
                     "analyses/portfolio.json is missing; the table was read from the single "
                     "analyses and national figures are missing. Run `evaluation analyse --all`."),
    "holm_title": ("Meerdere toetsen", "Multiple testing"),
    # column heads
    "col_intervention": ("Interventie", "Intervention"),
    "col_design": ("Ontwerp", "Design"),
    "col_estimate": ("Schatting", "Estimate"),
    "col_interval": ("{level}-interval", "{level} interval"),
    "col_change": ("Verandering", "Change"),
    "col_p": ("p", "p"),
    "col_p_holm": ("p (Holm)", "p (Holm)"),
    "col_verdict": ("Oordeel", "Verdict"),
    "col_smss": ("SMS-niveau", "SMS level"),
    "col_registration": ("Registratie", "Registration"),
    "col_term": ("Term", "Term"),
    "col_method": ("Methode", "Method"),
    "col_scale": ("Schaal", "Scale"),
    "inference": ("Onzekerheid berekend met", "Inference"),
    "col_check": ("Controle", "Check"),
    "col_status": ("Uitkomst", "Result"),
    "col_blocking": ("Blokkerend", "Blocking"),
    "col_detail": ("Toelichting", "Detail"),
    "col_group": ("Groep", "Group"),
    "col_before": ("Vóór de start", "Before the start"),
    "col_after": ("Na de start", "After the start"),
    "col_per_period_before": ("Per periode vóór", "Per period before"),
    "col_per_period_after": ("Per periode na", "Per period after"),
    "col_field": ("Veld", "Field"),
    "col_old": ("Oud", "Old"),
    "col_new": ("Nieuw", "New"),
    # intervention page
    "about_title": ("Wat, waar en wanneer", "What, where and when"),
    "owner": ("Eigenaar", "Owner"),
    "hypothesis": ("Hypothese", "Hypothesis"),
    "units": ("Gebieden", "Areas"),
    "start_dates": ("Start", "Start"),
    "end_date": ("Einde", "End"),
    "window": ("Analyseperiode", "Analysis window"),
    "excluded": ("uitgesloten", "excluded"),
    "design_did": ("verschil-in-verschillen", "difference-in-differences"),
    "design_its": ("onderbroken tijdreeks", "interrupted time series"),
    "registration_title": ("Registratie", "Registration"),
    "status_registered": ("geregistreerd", "registered"),
    "status_amended": ("geregistreerd, met amendementen", "registered, with amendments"),
    "status_retrospective": ("achteraf geregistreerd", "registered retrospectively"),
    "status_exploratory": ("verkennend (niet volgens registratie)", "exploratory (not as registered)"),
    "registered_at": ("Geregistreerd op", "Registered on"),
    "registered_by": ("door", "by"),
    "design_hash": ("Ontwerphash", "Design hash"),
    "amendments": ("Amendementen", "Amendments"),
    "no_amendments": ("Geen amendementen.", "No amendments."),
    "reason": ("Reden", "Reason"),
    "timing": ("Moment van registratie", "When registered"),
    "timing_prospective": ("vooraf: geregistreerd vóór de start", "prospective: registered before the start"),
    "timing_before_outcome_data": ("vóór de uitkomstdata: geregistreerd na de start, maar op data van "
                                   "vóór de start",
                                   "before outcome data: registered after the start, but on data from "
                                   "before the start"),
    "timing_retrospective": ("achteraf: er waren al data van na de start",
                             "retrospective: data from after the start already existed"),
    "diagnosis_attached": ("Diagnose bij de registratie", "Diagnosis with the registration"),
    "no_diagnosis_attached": ("geen: er was geen diagnose voor deze versie van het ontwerp",
                              "none: there was no diagnosis for this version of the design"),
    "diagnosis_field": ("diagnose", "diagnosis"),
    "none": ("geen", "none"),
    "ledger_head": ("Registratieregister", "Registration ledger"),
    "ledger_head_value": ("kop {head} ({n} vermeldingen)", "head {head} ({n} entries)"),
    "deviations_title": ("Afwijkingen van de vergelijkingsgroep", "Deviations from the comparison group"),
    "no_deviations": ("Geen: geen gemeente uit de bij registratie vastgelegde vergelijkingsgroep is "
                      "later door een andere interventie behandeld.",
                      "None: no unit of the comparison group frozen at registration was later treated "
                      "by another intervention."),
    "deviations_intro": ("Deze gemeenten hoorden bij registratie tot de vergelijkingsgroep en worden "
                         "later door een andere interventie behandeld. De analyse houdt ze, zoals "
                         "geregistreerd; de controle 'Vergelijkingsgroep zoals geregistreerd' toont de schatting zonder hen.",
                         "These units were in the comparison group at registration and are later "
                         "treated by another intervention. The analysis keeps them, as registered; the "
                         "check 'Comparison group as registered' shows the estimate without them."),
    "col_unit": ("Gemeente", "Unit"),
    "col_treated_by": ("Behandeld door", "Treated by"),
    "banner_retrospective": ("Let op: dit ontwerp is pas geregistreerd nadat de interventie was "
                             "gestart. De uitkomst kan door kennis van de data beïnvloed zijn.",
                             "Note: this design was registered only after the intervention "
                             "started. The result may be influenced by knowledge of the data."),
    "banner_exploratory": ("Let op: dit is een verkennende analyse, niet volgens een geldige "
                           "registratie. Er volgt geen oordeel uit.",
                           "Note: this is an exploratory analysis, not run under a valid "
                           "registration. It gives no verdict."),
    "data_title": ("De data", "The data"),
    "data_intro": ("Aantal aanslagen in de analyseperiode, vóór en na de start.",
                   "Number of attacks in the analysis window, before and after the start."),
    "group_treated": ("Interventiegebied", "Intervention area"),
    "group_control": ("Vergelijkingsgebieden", "Comparison areas"),
    "no_series": ("Er zijn geen reeksen opgeslagen voor deze analyse.",
                  "No series were stored for this analysis."),
    "figures_title": ("Figuren", "Figures"),
    "series_caption": ("Waargenomen aantallen en het contrafeitelijke verloop zonder interventie, "
                       "met {level}-band.",
                       "Observed counts and the counterfactual path without the intervention, "
                       "with {level} band."),
    "event_caption": ("Effect per periode rond de start (event study); vóór de start hoort het "
                      "effect rond geen effect te liggen.",
                      "Effect per period around the start (event study); before the start the "
                      "effect should be close to no effect."),
    "no_event_study": ("Geen event study voor deze analyse.", "No event study for this analysis."),
    "posterior_caption": ("Posteriorverdeling van de rate ratio, met de vooraf vastgelegde "
                          "minimale daling.",
                          "Posterior distribution of the rate ratio, with the registered "
                          "minimum reduction."),
    "no_posterior": ("Geen posteriorverdeling beschikbaar (geen Bayesiaanse analyse of geen "
                     "posterior.nc); deze figuur is overgeslagen.",
                     "No posterior available (no Bayesian analysis or no posterior.nc); this "
                     "figure was skipped."),
    "effects_title": ("Effecten", "Effects"),
    "bayes_row": ("Bayesiaans: rate ratio (mediaan, {level}-HDI)", "Bayesian: rate ratio (median, {level} HDI)"),
    "p_any": ("Kans op enige daling", "Probability of any reduction"),
    "p_min": ("Kans op minstens de minimale daling", "Probability of at least the minimum reduction"),
    "averted": ("Voorkomen aanslagen (contrafeitelijk min waargenomen)",
                "Attacks averted (counterfactual minus observed)"),
    "checks_title": ("Controles", "Checks"),
    "no_checks": ("Geen controles uitgevoerd.", "No checks were run."),
    "check_pass": ("geslaagd", "passed"),
    "check_fail": ("niet geslaagd", "failed"),
    "check_skipped": ("overgeslagen", "skipped"),
    "yes": ("ja", "yes"),
    "no": ("nee", "no"),
    "verdict_title": ("Oordeel", "Verdict"),
    "evidence": ("Bewijskracht (Maryland Scientific Methods Scale)",
                 "Strength of evidence (Maryland Scientific Methods Scale)"),
    "verdict_missing": ("Er is geen oordeel opgeslagen in result.json.",
                        "No verdict is stored in result.json."),
    "diagnosis_title": ("Onderscheidend vermogen", "Power"),
    "footer_data_hash": ("Datahash", "Data hash"),
    "footer_cutoff": ("Data tot en met", "Data up to"),
    "data_version": ("Gegevensversie", "Data version"),
    "boundaries": ("Gemeentelijke indeling", "Municipal boundaries"),
    "boundaries_of": ("gemeenten zoals in {year}; tellingen en inwonertallen van samengevoegde "
                      "gemeenten tellen over de hele periode mee bij hun opvolger",
                      "municipalities as in {year}; counts and population of merged "
                      "municipalities count for their successor over the whole period"),
    "boundaries_none": ("geen gemeentelijst geladen: codes zoals geregistreerd",
                        "no municipality list loaded: codes as registered"),
    "footer_software": ("Software", "Software"),
    "footer_rendered_from": ("Gemaakt uit", "Made from"),
    "notes": ("Opmerkingen bij de data", "Notes on the data"),
    # figures
    "rate_ratio_axis": ("Rate ratio (minder dan 1 = minder aanslagen)",
                        "Rate ratio (below 1 = fewer attacks)"),
    "difference_axis": ("Verschil", "Difference"),
    "count_axis": ("Aantal aanslagen", "Number of attacks"),
    "event_time_axis": ("Perioden sinds de start", "Periods since the start"),
    "min_reduction_line": ("Minimale daling", "Minimum reduction"),
    "no_effect": ("Geen effect", "No effect"),
    "observed_treated": ("Waargenomen (interventie)", "Observed (intervention)"),
    "observed_control": ("Waargenomen (vergelijking)", "Observed (comparison)"),
    "counterfactual": ("Zonder interventie (contrafeitelijk)", "Without intervention (counterfactual)"),
    "counterfactual_band": ("{level}-band", "{level} band"),
    "start": ("Start", "Start"),
    # methods page
    "methods_title": ("Methoden", "Methods"),
}


# The verdict box, check sentences, terms and portfolio wording live in a second file of the same
# catalogue (same (nl, en) pairs, so the keys of the two languages match by construction).
STRINGS.update(PAGE_MESSAGES)

def text(key: str, lang: str) -> str:
    """The text for `key` in `lang` ('nl' or 'en')."""
    nl, en = STRINGS[key]
    return nl if lang == "nl" else en
