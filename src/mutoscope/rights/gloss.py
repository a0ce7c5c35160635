"""A small word-for-word gloss of Spanish, French, German, Italian and Portuguese into
English, for description matching.

MiniLM (the description encoder) was trained on English; "el erizo azul de Sega recogiendo
anillos de oro" shares no word with "a blue hedgehog ... collects golden rings". No
multilingual sentence encoder ships its weights in a PyPI package we could depend on, so
the words that descriptions are made of (colours, animals, body parts, clothes, roles,
objects, common actions) are glossed one by one before descriptions are compared. Names
are matched separately (aliases in many languages); the gloss only helps descriptions.
A word that is also an English word keeps its English reading (not listed).
"""

from __future__ import annotations

import re
from functools import lru_cache

# english: foreign forms (any of es, fr, de, it, pt), space-separated.
_TABLE = """
blue: azul bleu blau blu azzurro bleue blaue blauen blauer
red: rojo roja rouge rot rote roten roter rosso rossa vermelho vermelha
yellow: amarillo amarilla jaune gelb gelbe gelben giallo gialla amarelo amarela
green: verde vert verte grün grüne grünen gruen
black: negro negra noir noire schwarz schwarze schwarzen nero nera preto preta
white: blanco blanca blanc blanche weiß weiss weiße weissen bianco bianca branco branca
pink: rosado rosada rosa rose
purple: morado morada violet violette lila viola roxo roxa
orange: naranja arancione laranja
grey: gris grise grau graue grigio grigia cinza cinzento
gold: oro dorado dorada doré dorée golden goldene oro ouro dourado dourada
silver: plata argent argenté silber silberne argento prata prateado
brown: marrón marron café braun braune marrone castanho
dark: oscuro oscura sombre dunkel dunkle dunklen dunkler scuro scura escuro escura
giant: gigante géant géante riesig riese gigantesco
small: pequeño pequeña petit petite klein kleine kleinen piccolo piccola pequeno pequena
big: grande grand grande groß große großen grosso grossa
young: joven jeune jung junge jungen giovane jovem
old: viejo vieja vieux vieille alt alte alten vecchio vecchia velho velha
round: redondo redonda rond ronde rund runde runden rotondo rotonda redondas redondos
hedgehog: erizo hérisson igel riccio ouriço
mouse: ratón souris maus topo topolino rato ratinho
rat: rata rat ratte ratto ratazana
cat: gato gata chat chatte katze gatto gatta
dog: perro perra chien chienne hund cane cão cachorro
bear: oso osa ours bär orso urso ursinho osito
lion: león lion löwe leone leão
duck: pato pata canard ente anatra
rabbit: conejo conejito lapin hase kaninchen coniglio coelho
pig: cerdo cerdito cochon schwein maiale porco porquinho
frog: rana grenouille frosch sapo
fish: pez poisson fisch pesce peixe
turtle: tortuga tortue schildkröte tartaruga
spider: araña araignée spinne ragno aranha
bat: murciélago chauve-souris fledermaus pipistrello morcego
monkey: mono singe affe scimmia macaco
dragon: dragón drache drago dragão
ogre: ogro oger orco
snowman: muñeco schneemann pupazzo boneco
mermaid: sirena sirène meerjungfrau sereia
wizard: mago sorcier sorcière zauberer zauberin mago bruxo feiticeiro maghetto
witch: bruja hexe strega bruxa
knight: caballero chevalier ritter cavaliere cavaleiro
lord: señor seigneur herr signore senhor
king: rey roi könig re rei
queen: reina reine königin regina rainha
princess: princesa princesse prinzessin principessa
prince: príncipe prinz principe
plumber: fontanero plombier klempner idraulico encanador
pirate: pirata pirat pirata
hero: héroe héros held eroe herói
villain: villano méchant bösewicht cattivo vilão
soldier: soldado soldat soldato
ninja: ninja
clown: payaso clown pagliaccio palhaço
robot: robot roboter robô
alien: extraterrestre außerirdischer alieno
ghost: fantasma fantôme gespenst geist
monster: monstruo monstre ungeheuer mostro monstro
superhero: superhéroe superhéros superheld supereroe super-herói
boy: niño chico garçon junge ragazzo menino
girl: niña chica fille mädchen ragazza menina
man: hombre homme mann uomo homem
woman: mujer femme frau donna mulher
child: niño enfant kind bambino criança
helmet: casco casque helm capacete
mask: máscara masque maske maschera
cape: capa cape umhang mantello mantelo
hat: sombrero chapeau hut cappello chapéu
cap: gorra casquette mütze cappellino boné
glasses: gafas lentes lunettes brille occhiali óculos
sword: espada épée schwert spada
saber: sable sabre säbel sciabola
light: luz lumière licht luce
shield: escudo bouclier schild scudo
hammer: martillo marteau hammer martello martelo
armor: armadura armure rüstung armatura
suit: traje combinaison anzug tuta terno
dress: vestido robe kleid vestito
boots: botas bottes stiefel stivali
shoes: zapatos chaussures schuhe scarpe sapatos
sneakers: zapatillas baskets turnschuhe scarpe tênis
gloves: guantes gants handschuhe guanti luvas
shorts: pantalones shorts calzoncini calções
overalls: peto salopette latzhose macacão jardineira
bow: lazo nœud schleife fiocco laço
scar: cicatriz cicatrice narbe
lightning: rayo éclair blitz fulmine raio relâmpago
broom: escoba balai besen scopa vassoura
wand: varita baguette zauberstab bacchetta varinha
castle: castillo château schloss burg castello castelo
school: escuela école schule scuola escola
rings: anillos anneaux ringe anelli anéis
ring: anillo anneau ring anello anel
mustache: bigote moustache schnurrbart baffi bigode bigodudo bigotudo baffuto moustachu
beard: barba barbe bart barba barbudo
ears: orejas oreilles ohren orecchie orelhas
eyes: ojos yeux augen occhi olhos
tail: cola queue schwanz coda rabo
claws: garras griffes krallen artigli
teeth: dientes dents zähne denti dentes
wings: alas ailes flügel ali asas
hair: pelo cabello cheveux haare capelli cabelo
nose: nariz nez nase naso
head: cabeza tête kopf testa cabeça
pipe: tubería tubo tuyau rohr tubo cano
mushroom: seta hongo champiñón champignon pilz fungo cogumelo
banana: plátano banane banana
honey: miel honig miele mel
pot: tarro pot topf vasetto pote
cheese: queso fromage käse formaggio queijo
burger: hamburguesa hamburger hambúrguer
pizza: pizza
can: lata canette dose lattina
bottle: botella bouteille flasche bottiglia garrafa
logo: logotipo logo
drink: bebida boisson getränk bevanda bebida refresco
car: coche auto voiture wagen macchina carro
ship: barco navire schiff nave navio
boat: bote bateau boot barca barco
ocean: océano océan ozean oceano
sea: mar mer meer mare
snow: nieve neige schnee neve
ice: hielo glace eis ghiaccio gelo
fire: fuego feu feuer fuoco fogo
moon: luna lune mond lua
star: estrella étoile stern stella estrela
city: ciudad ville stadt città cidade
forest: bosque forêt wald bosco floresta
swamp: pantano marais sumpf palude pântano
jungle: selva jungle dschungel giungla selva
desert: desierto désert wüste deserto
mountain: montaña montagne berg montagna montanha
island: isla île insel isola ilha
house: casa maison haus casa
night: noche nuit nacht notte noite
roof: techo tejado toit dach tetto telhado
web: telaraña toile netz ragnatela teia
skyscraper: rascacielos gratte-ciel wolkenkratzer grattacielo arranha-céu
running: corriendo courant courir rennt läuft correndo corre
flying: volando volant vole fliegt volando voando vuela
jumping: saltando sautant saute springt pulando salta
dancing: bailando dansant danse tanzt ballando dançando baila
singing: cantando chantant chante singt cantante canta
eating: comiendo mangeant mange isst mangiando comendo come
swimming: nadando nageant nage schwimmt nuotando
fighting: luchando peleando combattant kämpft combattendo lutando
collecting: recogiendo ramassant sammelt raccogliendo coletando
speed: velocidad vitesse geschwindigkeit velocità velocidade
fast: rápido rápida vite schnell veloce
magic: magia magie zauber magico mágico
power: poder pouvoir kraft potere
electric: eléctrico électrique elektrisch elettrico elétrico
chocolate: chocolate chocolat schokolade cioccolato
factory: fábrica usine fabrik fabbrica
river: río rivière fluss fiume rio
bridge: puente pont brücke ponte
train: tren zug treno trem
sponge: esponja éponge schwamm spugna
square: cuadrado cuadrada carré carrée eckig eckige eckigen quadratisch
square: quadrato quadrata quadrado quadrada
pants: pantalón pantalon hose hosen pantaloni calças
tie: corbata cravate krawatte cravatta gravata
belly: barriga ventre bauch pancia
pocket: bolsillo poche tasche tasca bolso
bell: campana cloche glocke campanella sino
crown: corona couronne krone coroa
tiara: diadema diadème diadem
bracelets: pulseras bracelets armbänder bracciali pulseiras
lasso: lazo lasso laço
fur: pelaje fourrure fell pelliccia pelo
furry: peludo peluda poilu poilue pelzig peloso pelosa
feathers: plumas plumes federn piume penas
beak: pico bec schnabel becco bico
horns: cuernos cornes hörner corna chifres
spots: manchas taches flecken macchie pintas
striped: rayado rayada rayé rayée gestreift gestreifte gestreiften righe listrado listrada
wooden: madera bois holz legno madeira
toy: juguete jouet spielzeug giocattolo brinquedo
doll: muñeca poupée puppe bambola boneca
bricks: ladrillos briques steine mattoncini tijolos
truck: camión camion lastwagen camion caminhão
motorcycle: moto motocicleta motorrad motocicletta
bicycle: bicicleta vélo fahrrad bicicletta
rocket: cohete fusée rakete razzo foguete
spaceship: nave raumschiff astronave
planet: planeta planète planet pianeta
sky: cielo ciel himmel céu
cloud: nube nuage wolke nuvola nuvem
rainbow: arcoíris arc-en-ciel regenbogen arcobaleno arco-íris
sun: sol soleil sonne sole
tree: árbol arbre baum albero árvore
garden: jardín jardin garten giardino jardim
kingdom: reino royaume königreich regno
palace: palacio palais palast palazzo palácio
tower: torre tour turm torre
village: pueblo aldea village dorf villaggio aldeia
street: calle rue straße strada rua
teacher: profesor profesora professeur lehrer lehrerin insegnante professor
headmaster: director directeur schulleiter preside diretor
doctor: médico médecin arzt medico
cook: cocinero cuisinier koch cuoco cozinheiro
detective: detective détective detektiv detetive
scientist: científico scientifique wissenschaftler scienziato cientista
president: presidente président präsident
player: jugador joueur spieler giocatore jogador
footballer: futbolista footballeur fußballer calciatore futebolista
singer: cantante chanteur chanteuse sänger sängerin cantora
actor: actor acteur actrice schauspieler attore ator atriz
captain: capitán capitaine kapitän capitano capitão
father: padre père vater pai papá papa
mother: madre mère mutter mãe mamá mamma
brother: hermano frère bruder fratello irmão
sister: hermana sœur soeur schwester sorella irmã
son: hijo fils sohn figlio filho
friend: amigo amiga ami amie freund freundin amico amica
husband: marido mari ehemann marito
wife: esposa épouse ehefrau moglie mulher
baby: bebé bébé baby neonato bebê
cub: cachorro lionceau jungtier cucciolo filhote
bird: pájaro ave oiseau vogel uccello pássaro
owl: búho lechuza hibou chouette eule gufo coruja
fox: zorro renard fuchs volpe raposa
wolf: lobo loup wolf lupo
horse: caballo cheval pferd cavallo cavalo
dinosaur: dinosaurio dinosaure dinosaurier dinosauro dinossauro
elephant: elefante éléphant elefant
penguin: pingüino pingouin manchot pinguin pinguino pinguim
bee: abeja abeille biene ape abelha
snake: serpiente serpent schlange serpente cobra
shark: tiburón requin hai squalo tubarão
gorilla: gorila gorille
panda: panda
tiger: tigre tiger tigre
panther: pantera panthère panter
swiss: suizo suiza suisse schweizer schweizerin svizzero svizzera suíço suíça
german: alemán alemana allemand allemande deutscher deutsche tedesco tedesca alemão alemã
french: francés francesa français française französisch französische francese
spanish: español española espagnol espagnole spanisch spanische spagnolo spagnola espanhol espanhola
italian: italiano italiana italien italienne italienisch italienische
english: inglés inglesa anglais anglaise englisch englische inglese
british: británico británica britannique britisch britische britannico britannica britânico
american: estadounidense americano americana américain américaine
american: amerikanisch amerikanische amerikaner
argentine: argentino argentina argentin argentine argentinisch argentinier
brazilian: brasileño brasileña brésilien brésilienne brasilianisch
brazilian: brasiliano brasiliana brasileiro brasileira
portuguese: portugués portuguesa portugais portugaise portugiesisch portoghese português
japanese: japonés japonesa japonais japonaise japanisch japanische giapponese japonês japonesa
tennis: tenis tennista tenista tennisspieler
football: fútbol futbol fußball fussball calcio futebol
actress: actriz actrice schauspielerin attrice atriz
title: título titre titel titolo
steel: acero acier stahl acciaio aço
bean: alubia judía frijol haricot bohne fagiolo feijão
monogram: monograma monogramme monogramm monogramma
backhand: revés revers rückhand rovescio
iron: hierro fer eisen ferro
angry: enfadado enojado furioso fâché wütend arrabbiato bravo zangado
happy: feliz heureux heureuse glücklich felice
tall: alto alta grande groß alto
fat: gordo gorda gros grosse dick grasso
strong: fuerte fort forte stark
evil: malvado malvada maléfique böse malvagio malvado
spiky: puntiagudo pointu stachelig spinoso espetado
bald: calvo calva chauve glatzköpfig careca
flies: vuela vole fliegt vola voa
smiling: sonriendo souriant lächelt sorridendo sorrindo
laughing: riendo riant lacht ridendo rindo
sleeping: durmiendo dormant schläft dormendo dormindo
drinking: bebiendo buvant trinkt bevendo
riding: montando chevauchant reitet cavalcando montando
climbing: escalando trepando grimpant klettert arrampicando escalando
throwing: lanzando lançant wirft lanciando lançando atirando
holding: sosteniendo tenant hält tenendo segurando
playing: jugando jouant spielt giocando jogando
walking: caminando marchant läuft camminando andando
building: construyendo construisant baut costruendo construindo
hiding: escondiéndose cachant versteckt nascondendo escondendo
"""

_GLOSS: dict[str, str] = {}
for _line in _TABLE.strip().splitlines():
    _english, _forms = _line.split(":", 1)
    for _form in _forms.split():
        if _form != _english:
            _GLOSS.setdefault(_form, _english)
_SPLIT = re.compile(r"(\w[\w'-]*)", re.UNICODE)
_ENDINGS = ("es", "s", "x", "en", "e", "n", "i", "er")


@lru_cache(maxsize=4096)
def _word(word: str) -> str | None:
    w = word.lower()
    if w in _GLOSS:
        return _GLOSS[w]
    for ending in _ENDINGS:
        if w.endswith(ending) and w[: -len(ending)] in _GLOSS:
            return _GLOSS[w[: -len(ending)]]
    # German compounds: "Blitznarbe" = Blitz + Narbe.
    for k in range(4, len(w) - 3):
        head, tail = _word(w[:k]), _word(w[k:]) if len(w) - k >= 4 else None
        if head and tail:
            return f"{head} {tail}"
    return None


_FOREIGN_FUNCTION = frozenset(
    """el los las del al y con sin una uno unos unas por para su sus que es de la en
    le les des du au aux et avec sur sous dans pour qui est une un
    der die das den dem des ein eine einen einem einer und mit auf aus bei vom zum zur im
    il lo gli della delle dei nel nella sul sulla con che di da
    os um uma do da dos das no na nos nas ao em com""".split()  # noqa: SIM905
)
_ENGLISH_FUNCTION = frozenset(
    """the a an and of in on at with to from by for his her their its is are while who
    that this""".split()  # noqa: SIM905
)


def is_foreign(text: str) -> bool:
    """More Spanish/French/German/Italian/Portuguese function words than English ones."""
    ws = [w.lower() for w in _SPLIT.findall(text)]
    foreign = sum(w in _FOREIGN_FUNCTION for w in ws)
    return foreign > 0 and foreign > sum(w in _ENGLISH_FUNCTION for w in ws)


def gloss_word(word: str) -> str:
    """One word in English, if the gloss knows it ("hermana" -> "sister"); else the word."""
    return _word(word) or word


@lru_cache(maxsize=1024)
def gloss(text: str) -> str:
    """``text`` with the foreign words it knows replaced by English ones ("el erizo azul"
    -> "el hedgehog blue"), if it is written in one of those languages; else ``text``.
    (An English prompt keeps its words: "cola" is not "tail" there.)"""
    if not is_foreign(text):
        return text
    return _SPLIT.sub(lambda m: _word(m.group()) or m.group(), text)
