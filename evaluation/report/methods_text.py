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

**Tijdreeksen: onzekerheid als schokken aanhouden.** Bij één tijdreeks houden toevallige pieken en
dalen vaak weken aan. Gewone (modelgebaseerde) standaardfouten zien dat niet, en een toets op
autocorrelatie vooraf ziet het door de toevalsruis in kleine aantallen meestal ook niet: in
simulaties riep zo'n analyse bij één op de drie reeksen zonder enig effect "significant". Daarom
vergelijken we standaard (`inference: auto` of `placebo_blocks`) de gemiddelde afwijking na de
start met die in even lange blokken vóór de start, die dezelfde aanhoudende schommelingen bevatten
(een voorspellings-t-toets op die blokken). Omdat trend en seizoen op dezelfde reeks worden
geschat, vangen ze een deel van zo'n schommeling op, en niet in elk blok even veel; elk blokgemiddelde wordt daarom gedeeld door die krimp, zodat alle
blokken weer vergelijkbaar zijn. Het interval, de p-waarde en het vertrouwen in een
daling komen alle drie uit die ene toets. We kozen deze methode omdat ze in de kalibratie
(docs/calibration_its.md: van geen tot sterke persistentie, 1 tot 50 aanslagen per week, 52 tot
156 weken vóór en 8 tot 26 weken na de start) haar foutkans vasthoudt, waar modelgebaseerde
fouten, Newey-West en de oude automatische keuze dat bij aanhoudende schokken niet doen. De prijs
is minder onderscheidingsvermogen: bij elk ITS-resultaat staat daarom hoe groot een daling minstens
moet zijn om met deze reeks aangetoond te kunnen worden. Is de reeks vóór de start te kort voor
een geldige toets, dan is het oordeel "nog niet te zeggen". Modelgebaseerde en Newey-West-fouten
blijven beschikbaar als expliciete keuze (`model`, `hac`). Met een lineair model op aantallen
houdt de toets haar foutkans niet overal vast (tot ongeveer twee keer de nominale kans bij een
lange voorperiode en een korte periode erna), omdat de spreiding van aantallen meebeweegt met
seizoen en niveau; voor aantallen aanslagen is daarom een telmodel de standaard.

## Lokale schokken en ongelijke gemeenten

Aanslagen komen in golven: een conflict kan het niveau in één stad maandenlang verhogen, en de
proeven lopen vaak in de grootste steden. **Randomisatietoets.** Een gewone toets vergelijkt
Amsterdam of Rotterdam met kleine gemeenten, terwijl het aantal aanslagen in een grote stad door
zulke schokken veel sterker schommelt. Daarom weegt de toets elke gemeente met de spreiding die
bij haar grootte hoort (de Poisson-spreiding plus een deel dat meegroeit met het kwadraat van het
verwachte aantal, geschat uit alle gemeenten samen; in de geest van Ferman en Pinto, 2019). In een
simulatiestudie met sterke, langdurige lokale schokken en de drie grootste gemeenten als
interventiegemeenten verwierp de oude toets een juiste nulhypothese in 17% van de gevallen (één
grote gemeente: 35%), de nieuwe in 2% (één: 5%), bij een nominale 5% (zie
docs/calibration_did.md). Het interval en het vertrouwen in een daling komen uit dezelfde toets.
**Bayesiaans model.** Het model geeft elke gemeente per kwartaal een eigen afwijking die van
kwartaal op kwartaal doorwerkt (AR(1)); hoe groot en hoe hardnekkig die afwijkingen zijn, leert het
model vooral uit de vergelijkingsgemeenten. Zo telt een lokale golf in een interventiegemeente niet
als effect mee. Het Bayesiaanse tijdreeksmodel doet hetzelfde voor één reeks: het niveau krijgt
per week (bij maandcijfers per maand) een eigen afwijking die van week tot week doorwerkt
(AR(1)); hoe groot en hoe hardnekkig die is, leert het model uit de reeks vóór de start. Een golf
die bij de start nog loopt, maakt het interval dan breder in plaats van een schijnbaar effect te
geven (docs/calibration_its.md).

## Controles

- **Pre-trends (blokkerend):** vóór de start mogen interventie- en vergelijkingsgroep niet
  uiteenlopen (gezamenlijke toets op de effecten vóór de start in de event study). Mislukt deze
  toets, dan is het oordeel altijd *nog niet te zeggen*.
- **Placebo-startdata:** dezelfde analyse met een nep-start in de periode vóór de interventie hoort
  geen effect te vinden.
- **Piek vlak vóór de start (blokkerend):** zijn de interventiegemeenten (DiD) of is de reeks
  (tijdreeks) gekozen vlak na een golf van aanslagen, dan daalt het aantal daarna ook zonder
  interventie (regressie naar het gemiddelde). De laatste acht weken (56 dagen, twee maanden) vóór
  de start vergelijken we daarom als nep-nameting met de rest van de periode ervoor, met het model
  en de onzekerheidsmethode van de hoofdanalyse (bij een tijdreeks de toets met blokken uit de
  reeks zelf, zie Onzekerheid; bij een gecontroleerde tijdreeks ten opzichte van de
  vergelijkingsreeks). Een significante
  stijging maakt het oordeel *nog niet te zeggen*; registreer dan een voorperiode zonder die weken
  (`window.exclude`) of een latere start. Bij een tijdreeks hangt wat de controle ziet sterk af van
  de lengte van de periode vóór de start: in simulaties met aanhoudende schokken faalde ze bij 2%
  van de reeksen zonder piek, en bij de reeks met de grootste piek van 340 in 80% (vijf jaar vóór
  de start), 56% (drie jaar) en 9% (anderhalf jaar) van de gevallen. Met anderhalf jaar vangen
  trend en seizoen zo'n piek grotendeels op; een geslaagde controle sluit een keuze na een piek dan
  niet uit.
- **Eén gemeente weglaten:** het effect mag niet van één gemeente afhangen.
- **Verplaatsing:** stijgen de aanslagen in buurgemeenten (als er een burenlijst is)?
- **Seizoensgevoeligheid, autocorrelatie en invloedrijke perioden** (tijdreeksen).
- **Betrouwbaarheid van het Bayesiaanse model (blokkerend)** en gevoeligheid voor de prior.

## Beslisregel

Per interventie zijn vooraf drie getallen vastgelegd: de minimale daling (standaard 10%), de kans
die nodig is om door te zetten (standaard 80%) en de kansgrens om te stoppen (standaard 50%). Met
P(daling) = de kans op (of, uit de hoofdanalyse, het vertrouwen in) enige daling (rate ratio onder
1) en P(minimaal) = die op minstens de minimale daling geldt, in deze volgorde:

| Oordeel | Wanneer |
|---|---|
| doorzetten | P(minimaal) is minstens de kans om door te zetten |
| stoppen | P(daling) is kleiner dan de kansgrens om te stoppen |
| aanpassen | P(daling) is minstens de kans die nodig is om door te zetten, maar P(minimaal) is kleiner dan 50%: er is vrijwel zeker een daling, maar waarschijnlijk kleiner dan het minimum |
| nog niet te zeggen | alle andere gevallen, bijvoorbeeld P(minimaal) tussen 50% en de doorzetgrens |

**Beslisgrond.** Elk ontwerp legt vooraf vast welke analyse de twee getallen levert
(`decision.basis`): de hoofdanalyse (standaard) of het Bayesiaanse model. De andere analyse, als
die is uitgevoerd, ondersteunt alleen: geeft zij een ander oordeel, dan staat dat in één zin bij
het oordeel, maar het oordeel volgt de vastgelegde beslisgrond.

**Vertrouwen uit de hoofdanalyse.** Is de hoofdanalyse de beslisgrond, dan zijn de twee getallen
*vertrouwen*, geen kansen: ze komen uit dezelfde toets als het interval, eenzijdig gelezen bij
een rate ratio van 1 en van 1 min de minimale daling. Bij randomisatie-inferentie is dat de
eenzijdige mid-p-waarde van die toets over dezelfde herverdelingen (met de Monte-Carlofout als
ze getrokken zijn); bij modelgebaseerde, clustergecorrigeerde of HAC-fouten de geschatte normale
verdeling op de logaritme van de rate ratio; bij de wild bootstrap de bootstrapverdeling. Zo
betekent "de bovengrens van het (1 - alpha)-interval ligt onder 0,90" dat het vertrouwen in de
minimale daling groter is dan 1 - alpha/2. De alpha van het ontwerp bepaalt elk interval en zijn
label (alpha 0,10: 90%-BI). Bij een verschil (lineair model) geldt de minimale daling als deel van
het contrafeitelijke gemiddelde.

**Foutkansen van de regel.** De ontwerpdiagnose (`evaluation diagnose`) simuleert het ontwerp op
de eigen geschiedenis vóór de start en telt hoe vaak de regel doorzet, aanpast, stopt of niets
zegt bij geen effect, bij de minimale en bij de verhoopte daling, naast wat een exact
gekalibreerde analyse met dezelfde precisie zou geven. Het oordeel noemt die foutkansen wanneer
er een actuele diagnose is.

**Altijd *nog niet te zeggen*** bij een verkennende analyse, een ontwerp dat afwijkt van de
registratie, een mislukte blokkerende controle of een onbetrouwbaar Bayesiaans model als dat de
beslisgrond is: dan wordt er nooit stilzwijgend doorgezet. Een analyse met een andere
methodeversie dan geregistreerd wordt als afwijking vermeld.

**Bewijskracht.** We geven het niveau op de Maryland Scientific Methods Scale (1-5) van het ontwerp
zoals uitgevoerd: een tijdreeks zonder vergelijkingsreeks is niveau 2; verschil-in-verschillen of
een gecontroleerde tijdreeks met een geslaagde pre-trendtoets (bij een tijdreeks: de
placebo-startdata vóór de start) is niveau 3 als die geslaagde toets ook iets zegt: hij had
minstens 80% onderscheidend vermogen tegen een trend die de schatting met de minimale daling zou
verschuiven, of het effect blijft aan dezelfde kant van nul als de schending na de start zo groot is
als de grootste ervóór (Rambachan & Roth 2023, Mbar = 1). Anders, of zonder geslaagde
pre-trendtoets, niveau 2: niet verwerpen alleen bewijst geen parallelle trends.

**Wat niet te schatten is.** Zijn er na de start in de interventiegemeenten geen aanslagen, dan is
een rate ratio van 0 een grens en geen schatting: we geven dan geen puntschatting maar een eenzijdig
exact interval (binomiaal, gegeven het totaal per gemeente; bij een tijdreeks gegeven het totaal
van de reeks, met de verwachting zonder interventie uit het model van de voorperiode) en het daaruit
volgende interval voor de voorkomen aanslagen. Zijn er juist vóór de start geen aanslagen en erna wel, dan is hun niveau
zonder interventie onbekend: er is dan alleen een ondergrens voor de rate ratio (hetzelfde exacte
interval, gespiegeld); het vertrouwen in een daling is dan 0, en de controles die de
interventiegemeenten vóór de start vergelijken kunnen niet worden uitgevoerd. Coëfficiënten van de event study zonder gebeurtenissen of zonder vergelijking
staan in de tabellen als "niet schatbaar" met de reden, en worden niet getekend; de pre-trendtoets
gebruikt alleen schatbare perioden. Een interval zonder boven- of ondergrens heet zo ("geen
bovengrens"); in result.json staat dan "inf".

**Einde van de interventie.** Met `treatment.end` gaat het oordeel over de periode van de interventie
(tenzij het ontwerp `analysis.estimand: after` of `both` vastlegt); de periode erna krijgt een eigen
schatting met interval, zodat zichtbaar is of een daling blijft.

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

**Time series: uncertainty when shocks persist.** In a single time series, chance highs and lows
often last for weeks. Ordinary (model-based) standard errors do not see that, and a test for
autocorrelation beforehand mostly misses it too through the noise of small counts: in simulations
such an analysis called one in three series without any effect "significant". By default
(`inference: auto` or `placebo_blocks`) we therefore compare the mean deviation after the start
with that in blocks of the same length before the start, which contain the same persistent
fluctuations (a prediction t test on those blocks). Because trend and season are estimated on
the same series, they absorb part of such a fluctuation, and not equally in every block; each block mean is therefore divided by that shrinkage, so that all blocks are
comparable again. The interval, the p-value and the confidence
of a reduction all come from that one test. We chose this method because in the calibration
(docs/calibration_its.md: persistence none to strong, 1 to 50 attacks a week, 52 to 156 weeks
before and 8 to 26 weeks after the start) it holds its error rate where model-based errors,
Newey-West and the former automatic choice do not under persistent shocks. The price is less
power: every ITS result therefore states how large a reduction must be at least for this series
to show it. When the series before the start is too short for a valid test, the verdict is
"inconclusive". Model-based and Newey-West errors remain available as explicit choices (`model`,
`hac`). With a linear model on counts the test does not hold its error rate everywhere (up to
about twice the nominal rate with a long pre-period and a short period after it), because the
spread of counts moves with season and level; for counts of attacks a count model is therefore
the default.

## Local shocks and unequal municipalities

Attacks come in waves: a feud can raise one city's level for months, and the pilots often run in
the largest cities. **Randomization test.** A plain test compares Amsterdam or Rotterdam with small
municipalities, while such shocks make a large city's count vary far more. The test therefore
weighs each municipality by the spread that goes with its size (the Poisson spread plus a part that
grows with the square of the expected count, estimated from all municipalities together; in the
spirit of Ferman and Pinto, 2019). In a simulation study with strong, lasting local shocks and the
three largest municipalities treated, the old test rejected a true null in 17% of cases (one large
municipality: 35%), the new one in 2% (one: 5%), at a nominal 5% (see docs/calibration_did.md).
The interval and the confidence of a reduction come from the same test. **Bayesian model.** The
model gives every municipality its own deviation per quarter that carries over from quarter to
quarter (AR(1)); how large and how lasting such deviations are, it learns mostly from the control
municipalities. A local wave in a treated municipality is thus not counted as an effect. The
Bayesian time-series model does the same for one series: its level has a deviation of its own per
week (per month with monthly data) that carries over from week to week (AR(1)); how large and
how lasting, the model learns from the series before the start. A wave still running at the start
then widens the interval instead of posing as an effect (docs/calibration_its.md).

## Checks

- **Pre-trends (blocking):** before the start, intervention and comparison groups must not drift
  apart (joint test of the event-study effects before the start). If it fails, the verdict is
  always *inconclusive*.
- **Placebo start dates:** the same analysis with a fake start before the intervention should find
  no effect.
- **A rise just before the start (blocking):** when the intervention municipalities (DiD) or the
  series (time series) were chosen right after a wave of attacks, the count falls afterwards even
  without the intervention (regression to the mean). We therefore compare the last eight weeks
  (56 days, two months) before the start, as a placebo after-period, with the rest of the period
  before it, with the primary analysis' model and uncertainty method (for a time series the test
  with blocks from the series itself, see Uncertainty; for a controlled time series relative to
  the comparison series). A
  significant rise makes the verdict *inconclusive*; then register a pre-period without those
  weeks (`window.exclude`) or a later start. For a time series what the check sees depends
  strongly on the length of the period before the start: in simulations with persistent shocks it
  failed for 2% of series without a spike, and for the series with the largest spike out of 340 in
  80% (five years before the start), 56% (three years) and 9% (one and a half years) of cases.
  With one and a half years, trend and season absorb most of such a spike; a passed check then
  does not rule out a choice made after a spike.
- **Leave one municipality out:** the effect must not hinge on one municipality.
- **Displacement:** do attacks rise in neighbouring municipalities (when a neighbour list exists)?
- **Seasonality sensitivity, autocorrelation and influential periods** (time series).
- **Reliability of the Bayesian model (blocking)** and sensitivity to the prior.

## Decision rule

Each intervention registers three numbers in advance: the minimum reduction (default 10%), the
probability needed to continue (default 80%) and the probability bound to stop (default 50%). With
P(reduction) = the probability of (or, from the primary analysis, the confidence in) any reduction
(rate ratio below 1) and P(minimum) = that of at least the minimum reduction, in this order:

| Verdict | When |
|---|---|
| continue | P(minimum) is at least the probability needed to continue |
| stop | P(reduction) is below the stop bound |
| adapt | P(reduction) is at least the probability needed to continue, but P(minimum) is below 50%: almost certainly a reduction, but probably smaller than the minimum |
| inconclusive | everything else, e.g. P(minimum) between 50% and the continue threshold |

**Decision basis.** Each design registers which analysis supplies the two numbers
(`decision.basis`): the primary analysis (the default) or the Bayesian model. The other analysis,
when run, only supports: when it would give another verdict, one sentence beside the verdict says
so, but the verdict follows the registered basis.

**Confidence from the primary analysis.** When the primary analysis is the basis, the two numbers
are *confidence*, not probabilities: they come from the same test as the interval, read one-sided
at a rate ratio of 1 and of 1 minus the minimum reduction. With randomization inference this is
the one-sided mid-p-value of that test over the same re-assignments (with its Monte Carlo error
when they are drawn); with model-based, cluster-robust or HAC errors the fitted normal on the log
rate ratio; with the wild bootstrap the bootstrap distribution. So "the upper bound of the
(1 - alpha) interval is below 0.90" means that the confidence in the minimum reduction exceeds
1 - alpha/2. The design's alpha sets every interval and its label (alpha 0.10: 90% CI). For a
difference (linear model) the minimum reduction is a share of the counterfactual mean.

**The rule's error rates.** The design diagnosis (`evaluation diagnose`) simulates the design on
its own history before the start and counts how often the rule continues, adapts, stops or says
nothing at no effect, at the minimum and at the hoped-for reduction, beside what an exactly
calibrated analysis of the same precision would give. The verdict quotes these error rates when
a current diagnosis exists.

**Always *inconclusive*** for an exploratory analysis, a design that differs from its
registration, a failed blocking check or an unreliable Bayesian model when it is the basis: never
a silent continue. An analysis under another method version than registered is reported as a
deviation.

**Strength of evidence.** We give the level on the Maryland Scientific Methods Scale (1-5) of the
design as run: a time series without a comparison series is level 2; difference-in-differences or
a controlled time series with a passed pre-trend check (for a time series: the placebo start
dates before the start) is level 3 when that pass means something: the test had at least 80%
power against a trend that would move the estimate by the minimum reduction, or the effect stays on
the same side of zero when the violation after the start is as large as the largest before it
(Rambachan & Roth 2023, Mbar = 1). Otherwise, or without a passed pre-trend check, level 2: not
rejecting alone does not show parallel trends.

**What cannot be estimated.** With no attack in the intervention municipalities after the start, a
rate ratio of 0 is a boundary, not an estimate: we give no point estimate but a one-sided exact
interval (binomial, given each municipality's total; for a time series given the series' total,
with the expectation without the intervention from the model of the period before) and the
interval of attacks averted that follows from it. With no attack before the start and some after it, their level without the
intervention is unknown: the rate ratio then has a lower bound only (the same exact interval,
mirrored); the confidence of a reduction is 0, and the checks that compare the intervention
municipalities before the start cannot run. Event-study coefficients without events or without comparison are listed as "not
estimable" with the reason and are not drawn; the pre-trend test uses estimable periods only. An
interval without an upper or lower bound is called so ("unbounded"); result.json then holds
"inf".

**End of the intervention.** With `treatment.end` the verdict concerns the intervention period
(unless the design registers `analysis.estimand: after` or `both`); the period after it gets its
own estimate with its interval, so it shows whether a reduction lasts.

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
