"""The methods page text (reports/methods.qmd) in Dutch and English.

Keep in step with evaluation/decision.py (the rule), evaluation/portfolio.py (national progress)
and the estimator modules; tests check that the decision thresholds named here exist.
"""

from __future__ import annotations

METHODS_NL = """
# Methoden

Deze pagina legt in gewone taal uit hoe elke interventie is geëvalueerd. Alles wat hier staat is
vóór de analyse vastgelegd in het ontwerpbestand en de registratie.

## Ontwerpen

**Verschil-in-verschillen (DiD).** We vergelijken de verandering in het aantal aanslagen in de
gemeenten met de interventie met de verandering in vergelijkbare gemeenten zonder interventie, in
dezelfde weken. Het model is een Poisson-regressie (of negatief-binomiaal bij extra spreiding) met
een vast effect per gemeente en per periode; het effect is een *rate ratio*: 0,80 betekent 20%
minder aanslagen dan zonder interventie verwacht. Starten gemeenten op verschillende momenten, dan
vergelijken we elk startcohort alleen met gemeenten die (nog) niet behandeld zijn.

**Onderbroken tijdreeks (ITS).** We beschrijven de reeks vóór de start met een trend en
seizoenspatroon en trekken die door naar de periode erna: dat is het *contrafeitelijke* verloop
zonder interventie. Het verschil tussen waargenomen en contrafeitelijk is het effect. Met een
vergelijkingsreeks (gecontroleerde ITS) corrigeren we bovendien voor wat er tegelijk elders
gebeurde.

**Bayesiaanse analyse (indien geregistreerd).** Hetzelfde model met zwak informatieve priors (de
rate ratio ligt vooraf ruwweg tussen 0,4 en 2,5). Het resultaat is een kansverdeling voor het
effect, waaruit we direct de kans op een daling aflezen. We gebruiken die alleen als het model
betrouwbaar is geschat (R-hat hoogstens 1,01, effectieve steekproef minstens 400, geen divergenties).

## Onzekerheid

Met weinig behandelde gemeenten zijn gewone standaardfouten te optimistisch. Daarom gebruiken we
dan een randomisatietoets (hoe uitzonderlijk is het effect vergeleken met dezelfde analyse op
willekeurig gekozen gemeenten) of een wild bootstrap; bij tijdreeksen met autocorrelatie
HAC-standaardfouten. Welke methode is gebruikt staat bij elk effect.

## Controles

- **Pre-trends (blokkerend):** vóór de start mogen interventie- en vergelijkingsgroep niet
  uiteenlopen (gezamenlijke toets op de effecten vóór de start in de event study). Mislukt deze
  toets, dan is het oordeel altijd *nog niet te zeggen*.
- **Placebo-startdata:** dezelfde analyse met een nep-start in de periode vóór de interventie hoort
  geen effect te vinden.
- **Eén gemeente weglaten:** het effect mag niet van één gemeente afhangen.
- **Verplaatsing:** stijgen de aanslagen in buurgemeenten (als er een burenlijst is)?
- **Seizoensgevoeligheid, autocorrelatie en invloedrijke perioden** (tijdreeksen).
- **Betrouwbaarheid van het Bayesiaanse model (blokkerend)** en gevoeligheid voor de prior.

## Beslisregel

Per interventie zijn vooraf drie getallen vastgelegd: de minimale daling (standaard 10%), de kans
die nodig is om door te zetten (standaard 80%) en de kansgrens om te stoppen (standaard 50%). Met
P(daling) = de kans op enige daling (rate ratio onder 1) en P(minimaal) = de kans op minstens de
minimale daling geldt, in deze volgorde:

| Oordeel | Wanneer |
|---|---|
| doorzetten | P(minimaal) is minstens de kans om door te zetten |
| stoppen | P(daling) is kleiner dan de kansgrens om te stoppen |
| aanpassen | P(daling) is minstens de kans die nodig is om door te zetten, maar P(minimaal) is kleiner dan 50%: er is vrijwel zeker een daling, maar waarschijnlijk kleiner dan het minimum |
| nog niet te zeggen | alle andere gevallen, bijvoorbeeld P(minimaal) tussen 50% en de doorzetgrens |

**Kansen zonder Bayesiaanse analyse.** Dan lezen we het 95%-betrouwbaarheidsinterval als
verdeling: normaal op de logaritme van de rate ratio, gecentreerd op de schatting, met aan elke
kant de breedte van die kant van het interval. Zo betekent "de bovengrens van het 95%-interval ligt
onder 0,90" precies dat P(minimaal) groter is dan 97,5%, en "de schatting ligt boven 1" dat
P(daling) kleiner is dan 50% (met de standaard stopgrens: stoppen). Doorzetten met de
standaardgrens van 80% betekent: de bovengrens van het eenzijdige 80%-interval ligt onder 0,90.
Bij een verschil (lineair model) gebeurt hetzelfde op de gewone schaal, met de minimale daling als
deel van het contrafeitelijke gemiddelde.

**Altijd *nog niet te zeggen*** bij een verkennende analyse, een ontwerp dat afwijkt van de
registratie, een mislukte blokkerende controle of een onbetrouwbaar Bayesiaans model: dan wordt
er nooit stilzwijgend doorgezet.

**Bewijskracht.** We geven het niveau op de Maryland Scientific Methods Scale (1-5) van het ontwerp
zoals uitgevoerd: een tijdreeks zonder vergelijkingsreeks is niveau 2; verschil-in-verschillen of
een gecontroleerde tijdreeks met een geslaagde pre-trendtoets (bij een tijdreeks: de
placebo-startdata vóór de start) is niveau 3; zonder geslaagde pre-trendtoets niveau 2.

## Portefeuille

**Meerdere toetsen.** Bij veel interventies tegelijk is een toevallig "significant" resultaat
waarschijnlijk. De Holm-correctie past de p-waarden zo aan dat de kans op één of meer onterechte
conclusies over de hele portefeuille onder 5% blijft.

**Landelijke voortgang.** Het aantal aanslagen van 1 januari 2025 tot de laatste datum in de data
vergelijken we met dezelfde kalenderperiode van 2024 (rate ratio met 95%-interval, score-methode).
Voor heel 2025 nemen we aan dat de rest van het jaar zich verhoudt als tot nu toe: de rest van 2024
maal de verhouding tot nu toe. De onzekerheid (95%-interval en de kans dat het doel van 10% minder
gehaald wordt) komt uit 20.000 simulaties met Gamma-verdelingen voor de tempo's en Poisson-ruis.

**Privacy.** Aantallen onder de 5 voor een buurt tonen we als "<5".
"""

METHODS_EN = """
# Methods

This page explains in plain language how each intervention was evaluated. Everything here was
fixed before the analysis in the design file and its registration.

## Designs

**Difference-in-differences (DiD).** We compare the change in the number of attacks in the
municipalities with the intervention to the change in comparable municipalities without it, in the
same weeks. The model is a Poisson regression (negative binomial with extra dispersion) with a
fixed effect per municipality and per period; the effect is a *rate ratio*: 0.80 means 20% fewer
attacks than expected without the intervention. When municipalities start at different times, each
start cohort is compared only with municipalities not (yet) treated.

**Interrupted time series (ITS).** We describe the series before the start with a trend and a
seasonal pattern and extend it into the period after: the *counterfactual* path without the
intervention. The difference between observed and counterfactual is the effect. With a comparison
series (controlled ITS) we also correct for what happened elsewhere at the same time.

**Bayesian analysis (when registered).** The same model with weakly informative priors (the rate
ratio a priori roughly between 0.4 and 2.5). The result is a probability distribution for the
effect, from which we read the probability of a reduction directly. We use it only when the model
fitted reliably (R-hat at most 1.01, effective sample size at least 400, no divergences).

## Uncertainty

With few treated municipalities ordinary standard errors are too optimistic. We then use a
randomization test (how unusual is the effect compared with the same analysis on randomly chosen
municipalities) or a wild bootstrap; for time series with autocorrelation, HAC standard errors.
Each effect names the method used.

## Checks

- **Pre-trends (blocking):** before the start, intervention and comparison groups must not drift
  apart (joint test of the event-study effects before the start). If it fails, the verdict is
  always *inconclusive*.
- **Placebo start dates:** the same analysis with a fake start before the intervention should find
  no effect.
- **Leave one municipality out:** the effect must not hinge on one municipality.
- **Displacement:** do attacks rise in neighbouring municipalities (when a neighbour list exists)?
- **Seasonality sensitivity, autocorrelation and influential periods** (time series).
- **Reliability of the Bayesian model (blocking)** and sensitivity to the prior.

## Decision rule

Each intervention registers three numbers in advance: the minimum reduction (default 10%), the
probability needed to continue (default 80%) and the probability bound to stop (default 50%). With
P(reduction) = the probability of any reduction (rate ratio below 1) and P(minimum) = the
probability of at least the minimum reduction, in this order:

| Verdict | When |
|---|---|
| continue | P(minimum) is at least the probability needed to continue |
| stop | P(reduction) is below the stop bound |
| adapt | P(reduction) is at least the probability needed to continue, but P(minimum) is below 50%: almost certainly a reduction, but probably smaller than the minimum |
| inconclusive | everything else, e.g. P(minimum) between 50% and the continue threshold |

**Probabilities without a Bayesian analysis.** We then read the 95% confidence interval as a
distribution: normal on the log rate ratio, centred at the estimate, each side as wide as that side
of the interval. So "the upper bound of the 95% interval is below 0.90" means exactly that
P(minimum) exceeds 97.5%, and "the estimate is above 1" that P(reduction) is below 50% (with the
default stop bound: stop). Continuing with the default threshold of 80% means: the upper bound of
the one-sided 80% interval is below 0.90. For a difference (linear model) the same happens on the
ordinary scale, with the minimum reduction as a share of the counterfactual mean.

**Always *inconclusive*** for an exploratory analysis, a design that differs from its
registration, a failed blocking check or an unreliable Bayesian model: never a silent continue.

**Strength of evidence.** We give the level on the Maryland Scientific Methods Scale (1-5) of the
design as run: a time series without a comparison series is level 2; difference-in-differences or
a controlled time series with a passed pre-trend check (for a time series: the placebo start
dates before the start) is level 3; without a passed pre-trend check level 2.

## Portfolio

**Multiple testing.** With many interventions at once, a "significant" result by luck is likely.
The Holm correction adjusts the p-values so that the chance of one or more false conclusions
across the whole portfolio stays below 5%.

**National progress.** The number of attacks from 1 January 2025 to the last date in the data is
compared with the same calendar span of 2024 (rate ratio with 95% interval, score method). For all
of 2025 we assume the rest of the year relates as it has so far: the rest of 2024 times the ratio
so far. The uncertainty (95% interval and the probability that the 10% target is met) comes from
20,000 simulations with Gamma distributions for the rates and Poisson noise.

**Privacy.** Counts below 5 for a neighbourhood are shown as "<5".
"""

METHODS = {"nl": METHODS_NL, "en": METHODS_EN}
