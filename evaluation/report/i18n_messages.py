"""Part of the page catalogue (merged into `i18n.STRINGS`): verdict box, check sentences by kind
and status, terms of the effects table and priors, portfolio evidence kinds and programme risk.

Every entry is a (Dutch, English) pair; placeholders are filled with numbers already formatted
in the page language.
"""

from __future__ import annotations

PAGE_MESSAGES: dict[str, tuple[str, str]] = {
    # verdict box
    "box_effect_rr": ("Naar schatting {pct} aanslagen; de onzekerheid ({level}) loopt van {low} "
                      "tot {high}.",
                      "An estimated {pct} attacks; the uncertainty ({level}) runs from {low} "
                      "to {high}."),
    "box_effect_diff": ("Naar schatting {amount} aanslagen per periode (verschil in tempo); de "
                        "onzekerheid ({level}) loopt van {low} tot {high}.",
                        "An estimated {amount} attacks per period (difference in rates); the "
                        "uncertainty ({level}) runs from {low} to {high}."),
    "box_effect_bound": ("Geen puntschatting (zie het oordeel); de onzekerheid ({level}) loopt van "
                         "{low} tot {high}.",
                         "No point estimate (see the verdict); the uncertainty ({level}) runs from "
                         "{low} to {high}."),
    "fewer": ("{x} minder", "{x} fewer"),
    "more": ("{x} meer", "{x} more"),
    "no_change": ("geen verandering", "no change"),
    "unbounded_fewer": ("onbegrensd minder", "unboundedly fewer"),
    "unbounded_more": ("onbegrensd meer", "unboundedly more"),
    "box_why": ("Waarom", "Why"),
    "box_effect": ("Effect", "Effect"),
    "box_rule": ("Beslisregel", "Decision rule"),
    "box_quantity_confidence": ("Vertrouwen (hoofdanalyse)", "Confidence (primary analysis)"),
    "box_quantity_probability": ("Kans (Bayesiaans model)", "Probability (Bayesian model)"),
    "box_rule_text": ("doorzetten als minstens {min} daling {cont} of meer haalt; stoppen als enige "
                      "daling onder {stop} blijft; aanpassen als enige daling {cont} haalt en "
                      "minstens {min} daling onder {half} blijft; anders nog niet te zeggen.",
                      "continue when a reduction of at least {min} reaches {cont} or more; stop "
                      "when any reduction stays below {stop}; adapt when any reduction reaches "
                      "{cont} and a reduction of at least {min} stays below {half}; otherwise "
                      "inconclusive."),
    "box_min": ("minstens {min} daling", "at least {min} reduction"),
    "box_any": ("enige daling", "any reduction"),
    "box_error_rates": ("Foutkansen van het ontwerp", "Error rates of the design"),
    "box_no_error_rates": ("Onbekend: er hoort geen actuele ontwerpdiagnose bij deze analyse.",
                           "Unknown: no current design diagnosis belongs to this analysis."),
    "box_registration": ("Registratie", "Registration"),
    "box_deviations": ("Afwijkingen", "Deviations"),
    "box_blocked": ("Blokkerend probleem: de beslisregel is niet toegepast.",
                    "Blocking problem: the decision rule was not applied."),
    "details_title": ("Details", "Details"),
    "verdict_details": ("Het oordeel in detail", "The verdict in detail"),
    "figure_failed": ("De figuur of sectie '{what}' kon niet worden gemaakt ({error}); de rest "
                      "van de pagina is wel gemaakt.",
                      "The figure or section '{what}' could not be made ({error}); the rest of "
                      "the page was made."),
    # check names and sentences: kind + status, numbers from the check's values
    "checkname_pre_trends": ("Parallelle trends vóór de start", "Parallel trends before the start"),
    "checkname_placebo": ("Nepstartdata (placebo)", "Placebo start dates"),
    "checkname_recent_rise": ("Piek vlak vóór de start", "A rise just before the start"),
    "checkname_seasonality": ("Gevoeligheid voor de seizoenscorrectie", "Sensitivity to the seasonal adjustment"),
    "checkname_autocorrelation": ("Samenhang tussen opeenvolgende perioden", "Correlation between successive periods"),
    "checkname_influence": ("Invloed van losse perioden", "Influence of single periods"),
    "checkname_leave_one_out": ("Eén gebied weglaten", "Leaving one area out"),
    "checkname_displacement": ("Verplaatsing naar buurgebieden", "Displacement to neighbouring areas"),
    "checkname_control_pool_deviation": ("Vergelijkingsgroep zoals geregistreerd", "Comparison group as registered"),
    "checkname_bayesian_reliability": ("Betrouwbaarheid van het Bayesiaanse model", "Reliability of the Bayesian model"),
    "checkname_prior_predictive": ("Aannames vooraf tegen de data", "Prior assumptions against the data"),
    "checkname_prior_sensitivity": ("Gevoeligheid voor de aannames vooraf", "Sensitivity to the prior assumptions"),
    "checkname_other": ("Overige controle", "Other check"),
    "checkmsg_pre_trends_pass": ("Geen aanwijzing dat de gebieden vóór de start al anders liepen.",
                                 "No sign that the areas already moved differently before the start."),
    "checkmsg_pre_trends_fail": ("De interventiegebieden liepen vóór de start al anders dan de "
                                 "vergelijkingsgebieden.",
                                 "The intervention areas already moved differently from the "
                                 "comparison areas before the start."),
    "checknum_pre_trends": ("gezamenlijke toets van {n} perioden vóór de start: p = {p}, grens {alpha}",
                            "joint test of {n} periods before the start: p = {p}, limit {alpha}"),
    "checkmsg_pre_trends_skipped": ("Niet getoetst: er waren geen schatbare perioden vóór de start.",
                                    "Not tested: there were no estimable periods before the start."),
    "checkskip_no_events_before": ("Niet uitgevoerd: de interventiegebieden hadden vóór de start "
                                   "geen enkele aanslag, dus er is vóór de start niets te "
                                   "vergelijken.",
                                   "Not run: the intervention areas had no attack at all before "
                                   "the start, so there is nothing to compare before it."),
    "checkmsg_placebo_pass": ("Nepstartdata vóór de echte start gaven geen schijneffect.",
                              "Placebo start dates before the real start showed no spurious effect."),
    "checkmsg_placebo_fail": ("Minstens één nepstartdatum vóór de echte start gaf een schijneffect.",
                              "At least one placebo start date before the real start showed a "
                              "spurious effect."),
    "checkmsg_placebo_skipped": ("Niet uitgevoerd: te weinig perioden vóór de start of geen "
                                 "schatbare nepstart.",
                                 "Not run: too few periods before the start or no estimable "
                                 "placebo start."),
    "checkmsg_recent_rise_pass": ("De interventiegebieden hadden in de weken vlak vóór de start "
                                  "geen opvallende stijging.",
                                  "The intervention areas had no striking rise in the weeks just "
                                  "before the start."),
    "checkmsg_recent_rise_fail": ("De interventiegebieden hadden vlak vóór de start opvallend veel "
                                  "aanslagen; een daling daarna kan een terugkeer naar normaal zijn, "
                                  "ook zonder interventie. Registreer een voorperiode zonder die "
                                  "weken (window.exclude) of een latere start.",
                                  "The intervention areas had strikingly many attacks just before "
                                  "the start; a fall afterwards may be a return to normal, even "
                                  "without the intervention. Register a pre-period without those "
                                  "weeks (window.exclude) or a later start."),
    "checkmsg_recent_rise_its_pass": ("De reeks had in de perioden vlak vóór de start geen "
                                      "opvallende stijging ten opzichte van haar eerdere verloop.",
                                      "The series had no striking rise in the periods just before "
                                      "the start compared with its earlier course."),
    "checkmsg_recent_rise_its_fail": ("De reeks had vlak vóór de start opvallend veel aanslagen "
                                      "ten opzichte van haar eerdere verloop; een daling daarna "
                                      "kan een terugkeer naar normaal zijn, ook zonder "
                                      "interventie. Registreer een voorperiode zonder die "
                                      "perioden (window.exclude) of een latere start.",
                                      "The series had strikingly many attacks just before the "
                                      "start compared with its earlier course; a fall afterwards "
                                      "may be a return to normal, even without the intervention. "
                                      "Register a pre-period without those periods "
                                      "(window.exclude) or a later start."),
    "checknum_recent_rise": ("de laatste {periods} perioden vóór de start tegen de eerdere: "
                             "schatting {ratio}, p = {p}",
                             "the last {periods} periods before the start against the earlier "
                             "ones: estimate {ratio}, p = {p}"),
    "checkskip_short_pre_period": ("Niet uitgevoerd: de periode vóór de start is te kort om de "
                                   "laatste weken met de eerdere te vergelijken.",
                                   "Not run: the period before the start is too short to compare "
                                   "its last weeks with the earlier ones."),
    "checkmsg_recent_rise_skipped": ("Niet uitgevoerd: de laatste perioden vóór de start konden "
                                     "niet met de eerdere worden vergeleken.",
                                     "Not run: the last periods before the start could not be "
                                     "compared with the earlier ones."),
    "checkmsg_seasonality_pass": ("Met een andere seizoenscorrectie blijft de uitkomst dezelfde kant op.",
                                  "With another seasonal adjustment the result points the same way."),
    "checkmsg_seasonality_fail": ("Met een andere seizoenscorrectie verandert de uitkomst.",
                                  "With another seasonal adjustment the result changes."),
    "checkmsg_seasonality_skipped": ("Niet van toepassing: deze data hebben geen seizoenscyclus.",
                                     "Not applicable: these data have no seasonal cycle."),
    "checkmsg_autocorrelation_pass": ("Geen samenhang tussen opeenvolgende perioden over die de "
                                      "onzekerheid zou onderschatten.",
                                      "No correlation left between successive periods that would "
                                      "understate the uncertainty."),
    "checkmsg_autocorrelation_fail": ("Opeenvolgende perioden hangen samen; de onzekerheid kan "
                                      "groter zijn dan getoond.",
                                      "Successive periods are correlated; the uncertainty may be "
                                      "larger than shown."),
    "checkmsg_autocorrelation_skipped": ("Niet uitgevoerd.", "Not run."),
    "checkmsg_influence_pass": ("Geen losse periode bepaalt de uitkomst.",
                                "No single period drives the result."),
    "checkmsg_influence_fail": ("Het weglaten van één periode verandert de uitkomst.",
                                "Leaving out one period changes the result."),
    "checkmsg_influence_skipped": ("Niet uitgevoerd: geen herberekening zonder een periode was schatbaar.",
                                   "Not run: no refit without a period was estimable."),
    "checkmsg_leave_one_out_pass": ("Het weglaten van één interventiegebied verandert de uitkomst niet.",
                                    "Leaving out one intervention area does not change the result."),
    "checkmsg_leave_one_out_fail": ("Het weglaten van één interventiegebied verandert de uitkomst.",
                                    "Leaving out one intervention area changes the result."),
    "checkmsg_leave_one_out_skipped": ("Niet van toepassing: er is maar één interventiegebied.",
                                       "Not applicable: there is only one intervention area."),
    "checkmsg_displacement_pass": ("Geen aanwijzing dat aanslagen naar buurgebieden verschoven.",
                                   "No sign that attacks moved to neighbouring areas."),
    "checkmsg_displacement_fail": ("In buurgebieden nam het aantal aanslagen toe: mogelijk verplaatsing.",
                                   "Attacks increased in neighbouring areas: possible displacement."),
    "checkmsg_displacement_skipped": ("Niet uitgevoerd: geen buurgebieden bekend of geen "
                                      "onbehandelde buren.",
                                      "Not run: no neighbours known or no untreated neighbours."),
    "checkmsg_control_pool_deviation_pass": ("Zonder de later elders behandelde gemeenten blijft "
                                             "de schatting binnen het interval.",
                                             "Without the units treated elsewhere later the "
                                             "estimate stays within the interval."),
    "checkmsg_control_pool_deviation_fail": ("Zonder de later elders behandelde gemeenten valt de "
                                             "schatting buiten het interval.",
                                             "Without the units treated elsewhere later the "
                                             "estimate falls outside the interval."),
    "checkmsg_control_pool_deviation_skipped": ("Niet uitgevoerd: de vergelijkingsgroep is niet "
                                                "veranderd of zonder hen niet schatbaar.",
                                                "Not run: the comparison group did not change or "
                                                "cannot be estimated without them."),
    "checkmsg_bayesian_reliability_pass": ("Het Bayesiaanse model is betrouwbaar geschat.",
                                           "The Bayesian model fitted reliably."),
    "checkmsg_bayesian_reliability_fail": ("Het Bayesiaanse model is niet betrouwbaar geschat.",
                                           "The Bayesian model did not fit reliably."),
    "checkmsg_bayesian_reliability_skipped": ("Niet uitgevoerd.", "Not run."),
    "checkmsg_prior_predictive_pass": ("De aannames vooraf laten aantallen toe die in de data voorkomen.",
                                       "The prior assumptions allow counts seen in the data."),
    "checkmsg_prior_predictive_fail": ("De aannames vooraf passen slecht bij de aantallen in de data.",
                                       "The prior assumptions fit the counts in the data poorly."),
    "checkmsg_prior_predictive_skipped": ("Niet uitgevoerd.", "Not run."),
    "checkmsg_prior_sensitivity_pass": ("Met ruimere of strengere aannames vooraf blijft de uitkomst gelijk.",
                                        "With wider or narrower prior assumptions the result stays the same."),
    "checkmsg_prior_sensitivity_fail": ("Met andere aannames vooraf verandert de uitkomst.",
                                        "With other prior assumptions the result changes."),
    "checkmsg_prior_sensitivity_skipped": ("Niet uitgevoerd.", "Not run."),
    "checkname_fit_warnings": ("Waarschuwingen bij het schatten", "Warnings of the fits"),
    "checkmsg_fit_warnings_pass": ("De schattingen gaven geen waarschuwingen (convergentie, "
                                   "scheiding, overloop, sampler).",
                                   "The fits raised no warnings (convergence, separation, "
                                   "overflow, sampler)."),
    "checkmsg_fit_warnings_fail": ("De schattingen gaven waarschuwingen; de technische "
                                   "toelichting (Engelstalig rapport) noemt ze. Controleer de "
                                   "convergentie van de genoemde schattingen.",
                                   "The fits raised warnings; the technical detail names them. "
                                   "Check the convergence of the fits named."),
    "checkname_inference_validity": ("Reeks lang genoeg voor geldige onzekerheid",
                                     "Series long enough for valid inference"),
    "checkmsg_inference_validity_pass": ("De voorperiode is lang genoeg voor de verdeling van "
                                         "nepstarts waaruit de onzekerheid komt.",
                                         "The pre-period is long enough for the distribution of "
                                         "placebo starts the uncertainty comes from."),
    "checkmsg_inference_validity_fail": ("De reeks is te kort voor geldige onzekerheid: verleng "
                                         "de voorperiode of verkort de periode na de start.",
                                         "The series is too short for valid inference: lengthen "
                                         "the pre-period or shorten the period after the start."),
    "checkmsg_other_pass": ("Geslaagd.", "Passed."),
    "checkmsg_other_fail": ("Niet geslaagd.", "Failed."),
    "checkmsg_other_skipped": ("Niet uitgevoerd.", "Not run."),
    # terms of the effects table and priors
    "term_att": ("Effect na de start (gemiddeld)", "Effect after the start (average)"),
    "term_effect_during": ("Effect tijdens de interventie", "Effect during the intervention"),
    "term_effect_after": ("Effect na afloop van de interventie", "Effect after the intervention ended"),
    "phase_during": ("tijdens de interventie", "during the intervention"),
    "phase_after": ("na afloop van de interventie", "after the intervention ended"),
    "phase_both": ("vanaf de start, tijdens en na de interventie samen",
                   "from the start, during and after the intervention together"),
    "phase_sentence": ("Het besluit gaat over de periode {estimand}. {other_label} ({n} {unit}): "
                       "{estimate} ({level}-interval {interval}). Dit getal telt niet mee in het "
                       "besluit; het laat zien {question}.",
                       "The verdict concerns the period {estimand}. {other_label} ({n} {unit}): "
                       "{estimate} ({level} interval {interval}). This number does not count in "
                       "the verdict; it shows {question}."),
    "phase_question_after": ("of een daling aanhoudt nadat de interventie is gestopt",
                             "whether a reduction lasts after the intervention stopped"),
    "phase_question_during": ("hoe het tijdens de interventie zelf ging",
                              "how it went during the intervention itself"),
    "phase_not_estimable": ("Het besluit gaat over de periode {estimand}. {other_label}: niet te "
                            "schatten (geen bruikbare perioden of geen aanslagen in de "
                            "interventiegebieden).",
                            "The verdict concerns the period {estimand}. {other_label}: not "
                            "estimable (no usable periods or no attacks in the intervention areas)."),
    "term_level_change": ("Sprong bij de start", "Level change at the start"),
    "term_slope_change": ("Verandering van de trend na de start", "Change of trend after the start"),
    "term_trend": ("Trend", "Trend"),
    "term_effect": ("Effect van de interventie", "Effect of the intervention"),
    "term_intercept": ("Beginniveau", "Starting level"),
    "term_unit_effects": ("Verschillen tussen gebieden", "Differences between areas"),
    "term_period_effects": ("Verschillen tussen perioden", "Differences between periods"),
    "term_dispersion": ("Extra spreiding van de aantallen", "Extra spread of the counts"),
    "term_seasonality": ("Seizoenspatroon", "Seasonal pattern"),
    "term_common_shift": ("Gezamenlijke verschuiving bij de start", "Common shift at the start"),
    "term_sigma": ("Restspreiding", "Residual spread"),
    "term_deviations": ("Aanhoudende lokale afwijkingen (per gemeente en blok van perioden)",
                        "Persistent local deviations (per municipality and block of periods)"),
    "term_persistent_deviations": ("Aanhoudende afwijkingen van de reeks (AR(1)-proces)",
                                   "Persistent deviations of the series (AR(1) process)"),
    "term_averted_total": ("Voorkomen aanslagen (totaal, contrafeitelijk min waargenomen)",
                           "Attacks averted (total, counterfactual minus observed)"),
    "term_control_level_change": ("Sprong bij de start in de vergelijkingsreeks",
                                  "Level change at the start in the comparison series"),
    "term_group_treated": ("Verschil tussen interventie- en vergelijkingsreeks",
                           "Difference between intervention and comparison series"),
    "term_treated_trend": ("Eigen trend van de interventiereeks", "Own trend of the intervention series"),
    "term_treatment": ("Effect van de interventie", "Effect of the intervention"),
    "term_season": ("Seizoenspatroon ({wave} {k})", "Seasonal pattern ({wave} {k})"),
    "term_event_before": ("{k} {unit} vóór de start", "{k} {unit} before the start"),
    "term_event_after": ("{k} {unit} na de start", "{k} {unit} after the start"),
    "term_event_start": ("Periode van de start", "Period of the start"),
    "scale_rate_ratio": ("verhouding (rate ratio)", "rate ratio"),
    "scale_difference": ("verschil per periode", "difference per period"),
    "scale_count": ("aantal", "count"),
    "method_rate_ratio": ("telmodel voor aantallen: het effect is een verhouding van tempo's",
                          "count model: the effect is a ratio of rates"),
    "method_difference": ("lineair model: het effect is een verschil in tempo (aanslagen per periode)",
                          "linear model: the effect is a difference in rates (attacks per period)"),
    "inference_randomization": ("randomisatietoets (weinig interventiegebieden)",
                                "randomization test (few intervention areas)"),
    "inference_cluster": ("clusterrobuuste standaardfouten", "cluster-robust standard errors"),
    "inference_wild_bootstrap": ("wilde bootstrap", "wild bootstrap"),
    "inference_hac": ("standaardfouten robuust voor samenhang in de tijd (HAC)",
                      "standard errors robust to serial correlation (HAC)"),
    "inference_model": ("standaardfouten van het model", "model-based standard errors"),
    "inference_placebo_blocks": ("nepstarts in de eigen voorperiode (placebo-blokken, robuust voor "
                                 "samenhang in de tijd)",
                                 "placebo starts in the series' own past (placebo blocks, robust "
                                 "to serial correlation)"),
    "inference_exact_conditional": ("exacte voorwaardelijke toets (eenzijdig interval: geen "
                                    "aanslagen na of vóór de start)",
                                    "exact conditional test (one-sided interval: no attacks after "
                                    "or before the start)"),
    "inference_randomization_exact": ("randomisatietoets voor p en vertrouwen; het eenzijdige "
                                      "interval uit de exacte voorwaardelijke toets",
                                      "randomization test for p and confidence; the one-sided "
                                      "interval from the exact conditional test"),
    "checkskip_no_events_after": ("Niet uitgevoerd: na de start is in de interventiereeks geen "
                                  "enkele aanslag geregistreerd, dus er is geen sprong te "
                                  "herberekenen.",
                                  "Not run: no attack was recorded in the intervention series "
                                  "after the start, so there is no level change to refit."),
    "prior_flat": ("vlak: geen voorkeur", "flat: no preference"),
    "priors_title": ("Aannames vooraf (priors) van het Bayesiaanse model",
                     "Prior assumptions of the Bayesian model"),
    "diff_axis_rate": ("Verschil in aanslagen per periode (0 = geen effect)",
                       "Difference in attacks per period (0 = no effect)"),
    # portfolio: kind of evidence, programme risk
    "col_evidence_kind": ("Soort bewijs", "Kind of evidence"),
    "evidence_kind_prospective": ("vooraf geregistreerd", "prospective"),
    "evidence_kind_before_outcome_data": ("geregistreerd vóór de uitkomstdata", "before outcome data"),
    "evidence_kind_retrospective": ("achteraf geregistreerd", "retrospective"),
    "evidence_kind_exploratory": ("verkennend (buiten de toetsfamilie)", "exploratory (outside the test family)"),
    "evidence_kind_unknown": ("onbekend", "unknown"),
    "risk_title": ("Risico voor het programma", "Risk for the programme"),
    "risk_text": ("Als geen van deze {n} interventies werkt, wordt volgens de ontwerpdiagnoses er "
                  "met een kans van {p} minstens één ten onrechte doorgezet (per interventie "
                  "tussen {lo} en {hi}).",
                  "If none of these {n} interventions works, the design diagnoses give a chance "
                  "of {p} that at least one is wrongly continued (per intervention between "
                  "{lo} and {hi})."),
    "risk_missing": ("{m} van de {n} interventies hebben geen ontwerpdiagnose; voor hen is het "
                     "risico onbekend en niet meegeteld.",
                     "{m} of the {n} interventions have no design diagnosis; their risk is "
                     "unknown and not counted."),
    "risk_none": ("Geen interventie heeft een ontwerpdiagnose: het risico voor het programma is onbekend.",
                  "No intervention has a design diagnosis: the programme's risk is unknown."),
    "national_method": ("Methode: de verhouding tot nu toe ten opzichte van dezelfde periode van "
                        "{base} wordt doorgetrokken naar de rest van {year}, met het verloop van "
                        "{base} over die weken; onzekerheid met Gamma-verdelingen voor de tempo's en "
                        "Poisson-ruis voor de rest van het jaar.",
                        "Method: the ratio so far against the same span of {base} is carried over "
                        "to the rest of {year}, following {base}'s course over those weeks; "
                        "uncertainty from Gamma distributions for the rates and Poisson noise for "
                        "the rest of the year."),
    "national_method_complete": ("De data bestrijken heel {year}: de cijfers zijn de waargenomen "
                                 "totalen van {year} en {base}; het interval van de verhouding "
                                 "is de score-methode voor twee Poisson-aantallen.",
                                 "The data cover all of {year}: the figures are the observed totals "
                                 "of {year} and {base}; the ratio's interval is the score method "
                                 "for two Poisson counts."),
    "pdf_title": ("Vergaderstuk: evaluaties van interventies tegen explosies",
                  "Meeting pack: evaluations of interventions against explosive attacks"),
}
