//! A deterministic generator of realistic rule sets and citizen messages for civic-router's
//! benchmarks and for the peer comparison (`benches/compare/run.sh`).
//!
//! The rules look like what a city's service staff write: lists of words (some with a trailing
//! `*`), regular expressions with `\b`, alternations and optional letters, proximity patterns
//! (`.{0,30}`), `all`/`none` conditions, `unless`, channel restrictions and nested `any`. The
//! messages are Spanish citizen complaints and questions, 60–200 characters, with accents,
//! chat shorthand and the odd emoji. Everything derives from a seed, so two runs (and two
//! engines) see exactly the same workload.
//!
//! ```
//! use civic_router_benches::{messages, rules};
//! use civic_router::rules::{RuleInput, RuleSet, Vocabulary};
//!
//! let set = rules(100, 7);
//! let compiled = RuleSet::from_toml(&set.toml, "synthetic.toml", &Vocabulary::permissive()).unwrap();
//! assert_eq!(compiled.len(), 100);
//! let msgs = messages(50, 7);
//! assert!(msgs.iter().all(|m| (60..=200).contains(&m.text.chars().count())));
//! // the same seed gives the same workload
//! assert_eq!(rules(100, 7).toml, set.toml);
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use civic_router::message::{ChannelKind, Message};
use civic_router::text::{fold_regex, Normalizer};

/// A small, fast, deterministic pseudo-random generator (SplitMix64).
///
/// ```
/// let mut a = civic_router_benches::Rng::new(1);
/// let mut b = civic_router_benches::Rng::new(1);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    /// `k` distinct elements of `xs` (all of them if `k >= xs.len()`), in random order.
    pub fn sample<'a, T>(&mut self, xs: &'a [T], k: usize) -> Vec<&'a T> {
        let mut idx: Vec<usize> = (0..xs.len()).collect();
        for i in (1..idx.len()).rev() {
            let j = self.below(i + 1);
            idx.swap(i, j);
        }
        idx.into_iter().take(k).map(|i| &xs[i]).collect()
    }
}

/// One subject citizens write about, as rule authors and as citizens name it.
struct Topic {
    category: &'static str,
    intent: &'static str,
    /// regex alternatives naming the thing, as staff write them
    nouns: &'static [&'static str],
    /// regex alternatives describing the problem or the question
    states: &'static [&'static str],
    /// plain words and phrases for `*_words` conditions
    words: &'static [&'static str],
    /// how citizens name the thing
    say_nouns: &'static [&'static str],
    /// how citizens describe the problem
    say_states: &'static [&'static str],
}

const TOPICS: &[Topic] = &[
    Topic {
        category: "alumbrado",
        intent: "incident",
        nouns: &[
            "farolas?",
            "farol(es)?",
            "alumbrado",
            "luz de la calle",
            "luces de la calle",
            "bombillas?",
        ],
        states: &[
            "apagad[ao]s?",
            "fundid[ao]s?",
            "no (funciona|funcionan|enciende|encienden|alumbra)",
            "parpadea\\w*",
            "sin luz",
            "a oscuras",
            "encendid[ao]s? de dia",
        ],
        words: &[
            "farola",
            "farolas",
            "alumbrado publico",
            "farol*",
            "a oscuras",
            "sin luz",
        ],
        say_nouns: &[
            "la farola",
            "las farolas",
            "el alumbrado",
            "la luz de la calle",
            "el farol",
            "las luces de la calle",
        ],
        say_states: &[
            "está apagada",
            "lleva una semana apagada",
            "no funciona",
            "parpadea toda la noche",
            "está fundida",
            "estamos a oscuras",
            "se queda encendida de día",
        ],
    },
    Topic {
        category: "via_publica",
        intent: "incident",
        nouns: &[
            "baches?",
            "socav[oó]n(es)?",
            "agujeros?",
            "hoyos?",
            "hundimientos?",
            "asfalto",
        ],
        states: &[
            "enorme",
            "peligros[oa]s?",
            "profund[oa]s?",
            "(se|me) (ha|he) caido",
            "rot[oa]s?",
            "hundid[oa]s?",
        ],
        words: &[
            "bache",
            "baches",
            "socavón",
            "hundimiento",
            "agujero*",
            "asfalto",
        ],
        say_nouns: &[
            "un bache",
            "un socavón",
            "un agujero",
            "el asfalto",
            "un hoyo",
            "un hundimiento",
        ],
        say_states: &[
            "enorme",
            "muy peligroso",
            "bastante profundo",
            "se ha caído una moto",
            "está todo roto",
            "cada vez más hundido",
        ],
    },
    Topic {
        category: "via_publica",
        intent: "incident",
        nouns: &[
            "aceras?",
            "bordillos?",
            "losas?",
            "baldosas?",
            "adoqu[ií]n(es)?",
        ],
        states: &[
            "levantad[ao]s?",
            "suelt[ao]s?",
            "rot[ao]s?",
            "(me|se) (he|ha) tropezado",
            "hundid[ao]s?",
        ],
        words: &["acera", "aceras", "baldosa*", "bordillo", "adoquines"],
        say_nouns: &[
            "la acera",
            "las baldosas",
            "el bordillo",
            "los adoquines",
            "una losa",
        ],
        say_states: &[
            "está levantada",
            "están sueltas",
            "está rota",
            "mi madre se ha tropezado",
            "se ha hundido",
        ],
    },
    Topic {
        category: "limpieza",
        intent: "incident",
        nouns: &[
            "contenedor(es)?",
            "cubos? de basura",
            "papeleras?",
            "iglus?",
            "contenedor de vidrio",
        ],
        states: &[
            "llen[oa]s?",
            "desbordad[oa]s?",
            "no (recogen|han recogido|pasan)",
            "rot[oa]s?",
            "huele\\w*",
            "(sin|no) vaciar",
        ],
        words: &[
            "contenedor",
            "contenedores",
            "papelera*",
            "cubo de basura",
            "iglu",
        ],
        say_nouns: &[
            "el contenedor",
            "los contenedores",
            "la papelera",
            "el cubo de basura",
            "el contenedor de vidrio",
        ],
        say_states: &[
            "está lleno hasta arriba",
            "desbordado",
            "no recogen desde el viernes",
            "está roto",
            "huele fatal",
            "lleva días sin vaciar",
        ],
    },
    Topic {
        category: "limpieza",
        intent: "incident",
        nouns: &[
            "basura",
            "escombros?",
            "suciedad",
            "excrementos?",
            "cacas? de perro",
            "muebles? tirados?",
            "enseres",
        ],
        states: &[
            "tirad[oa]s?",
            "acumulad[oa]s?",
            "por (todas partes|el suelo)",
            "(nadie|no) (limpia|recoge)",
            "desde hace (dias|semanas)",
        ],
        words: &[
            "basura",
            "escombros",
            "suciedad",
            "excrementos",
            "muebles tirados",
            "enseres",
        ],
        say_nouns: &[
            "basura",
            "escombros",
            "mucha suciedad",
            "cacas de perro",
            "un sofá y muebles tirados",
            "enseres viejos",
        ],
        say_states: &[
            "tirados en la acera",
            "acumulada",
            "por todas partes",
            "nadie limpia",
            "desde hace semanas",
        ],
    },
    Topic {
        category: "parques_jardines",
        intent: "incident",
        nouns: &[
            "[aá]rbol(es)?",
            "ramas?",
            "palmeras?",
            "naranjos?",
            "setos?",
        ],
        states: &[
            "caid[oa]s?",
            "partid[oa]s?",
            "a punto de caer",
            "sin podar",
            "sec[oa]s?",
            "inclinad[oa]s?",
        ],
        words: &["arbol", "arboles", "rama*", "palmera", "naranjos", "poda"],
        say_nouns: &[
            "un árbol",
            "una rama",
            "la palmera",
            "los naranjos",
            "el seto",
        ],
        say_states: &[
            "se ha caído",
            "está partida",
            "está a punto de caer",
            "sin podar desde hace años",
            "está seco",
            "muy inclinado",
        ],
    },
    Topic {
        category: "parques_jardines",
        intent: "incident",
        nouns: &[
            "columpios?",
            "parque infantil",
            "zona infantil",
            "toboganes?",
            "bancos? del parque",
        ],
        states: &[
            "rot[oa]s?",
            "peligros[oa]s?",
            "oxidad[oa]s?",
            "suelt[oa]s?",
            "sin arena",
        ],
        words: &["columpio*", "parque infantil", "tobogan", "zona de juegos"],
        say_nouns: &[
            "el columpio",
            "el parque infantil",
            "el tobogán",
            "los bancos del parque",
            "la zona infantil",
        ],
        say_states: &[
            "está roto",
            "es un peligro para los niños",
            "totalmente oxidado",
            "tiene tornillos sueltos",
            "lleva meses sin arena",
        ],
    },
    Topic {
        category: "agua",
        intent: "incident",
        nouns: &[
            "fugas? de agua",
            "tuber[ií]as?",
            "cañer[ií]as?",
            "reventon",
            "boca de riego",
        ],
        states: &[
            "rot[oa]s?",
            "perdiendo agua",
            "sale agua",
            "inundad[oa]s?",
            "revent\\w*",
        ],
        words: &["fuga de agua", "tuberia*", "cañeria", "emasesa", "sin agua"],
        say_nouns: &[
            "una fuga de agua",
            "la tubería",
            "una cañería",
            "la boca de riego",
        ],
        say_states: &[
            "rota",
            "lleva horas perdiendo agua",
            "sale agua a chorros",
            "la calle está inundada",
            "ha reventado",
        ],
    },
    Topic {
        category: "agua",
        intent: "incident",
        nouns: &[
            "alcantarillas?",
            "imbornal(es)?",
            "sumideros?",
            "desag[uü]es?",
            "arquetas?",
        ],
        states: &[
            "atascad[oa]s?",
            "huele\\w* mal",
            "desbordad[oa]s?",
            "tapad[oa]s?",
            "olor",
        ],
        words: &[
            "alcantarilla*",
            "imbornal",
            "sumidero",
            "desague",
            "arqueta",
        ],
        say_nouns: &[
            "la alcantarilla",
            "el imbornal",
            "el sumidero",
            "el desagüe",
            "la arqueta",
        ],
        say_states: &[
            "está atascada",
            "huele muy mal",
            "se ha desbordado",
            "está tapado de hojas",
            "da un olor horrible",
        ],
    },
    Topic {
        category: "movilidad",
        intent: "incident",
        nouns: &[
            "sem[aá]foros?",
            "paso de peatones",
            "paso de cebra",
            "señal(es)?( de trafico)?",
        ],
        states: &[
            "no funciona\\w*",
            "apagad[oa]s?",
            "en [aá]mbar",
            "borrad[oa]s?",
            "caid[oa]s?",
        ],
        words: &[
            "semaforo",
            "semaforos",
            "paso de cebra",
            "paso de peatones",
            "señal*",
        ],
        say_nouns: &[
            "el semáforo",
            "el paso de peatones",
            "el paso de cebra",
            "la señal de tráfico",
        ],
        say_states: &[
            "no funciona",
            "está apagado",
            "se queda en ámbar",
            "está borrado",
            "se ha caído",
        ],
    },
    Topic {
        category: "movilidad",
        intent: "information",
        nouns: &[
            "autob[uú]s(es)?",
            "buses",
            "tussam",
            "parada (del|de) (autobus|bus)",
            "marquesinas?",
            "linea c[1-6]",
            "linea [0-9]{1,2}",
        ],
        states: &[
            "no (pasa|para|llega|viene)",
            "(tarda|tardan) mucho",
            "(muy )?(lleno|llenos)",
            "retrasad[oa]s?",
            "rot[oa]s?",
        ],
        words: &[
            "autobus",
            "tussam",
            "parada del autobus",
            "marquesina",
            "linea*",
        ],
        say_nouns: &[
            "el autobús",
            "la línea C3",
            "la línea 27",
            "la parada del bus",
            "la marquesina",
            "tussam",
        ],
        say_states: &[
            "no pasa",
            "tarda muchísimo",
            "va muy lleno",
            "siempre retrasado",
            "está rota",
        ],
    },
    Topic {
        category: "movilidad",
        intent: "incident",
        nouns: &[
            "coches? mal aparcados?",
            "vados?",
            "doble fila",
            "aparcad[oa]s? en (la acera|el vado|doble fila)",
            "gr[uú]a",
        ],
        states: &[
            "bloquea\\w*",
            "no (puedo|podemos) salir",
            "todos los dias",
            "impide\\w*",
        ],
        words: &["mal aparcado", "vado", "doble fila", "grua"],
        say_nouns: &[
            "un coche mal aparcado",
            "el vado",
            "coches en doble fila",
            "una furgoneta aparcada en la acera",
        ],
        say_states: &[
            "bloquea la salida",
            "no puedo salir del garaje",
            "todos los días igual",
            "impide el paso",
        ],
    },
    Topic {
        category: "medio_ambiente",
        intent: "incident",
        nouns: &[
            "ruidos?",
            "m[uú]sica( alta)?",
            "fiestas?",
            "botell[oó]n(es)?",
            "bar(es)?",
            "terrazas?",
        ],
        states: &[
            "toda la noche",
            "hasta las [0-9]+",
            "no (podemos|puedo|se puede) dormir",
            "molest\\w*",
            "(muy|demasiado) alt[oa]",
        ],
        words: &["ruido", "musica alta", "botellon", "fiesta*", "terraza"],
        say_nouns: &[
            "ruido",
            "música alta",
            "una fiesta",
            "botellón",
            "el bar de abajo",
            "la terraza",
        ],
        say_states: &[
            "toda la noche",
            "hasta las 4",
            "no podemos dormir",
            "molesta muchísimo",
            "demasiado alta",
        ],
    },
    Topic {
        category: "medio_ambiente",
        intent: "incident",
        nouns: &[
            "ratas?",
            "cucarachas?",
            "plagas?",
            "palomas?",
            "perros? (suelto|abandonado)s?",
            "mosquitos?",
        ],
        states: &[
            "por (todas partes|el barrio|la calle)",
            "muert[oa]s?",
            "(muchas|muchos|un monton)",
            "fumigar",
            "desratizar",
        ],
        words: &["ratas", "cucarachas", "plaga*", "palomas", "mosquitos"],
        say_nouns: &[
            "ratas",
            "cucarachas",
            "una plaga",
            "palomas",
            "un perro suelto",
            "mosquitos",
        ],
        say_states: &[
            "por todas partes",
            "muertas en la calle",
            "un montón",
            "hay que fumigar",
            "que vengan a desratizar",
        ],
    },
    Topic {
        category: "vivienda",
        intent: "information",
        nouns: &[
            "viviendas? (protegida|social)",
            "vpo",
            "alquiler social",
            "desahucio",
            "emvisesa",
            "registro de demandantes",
        ],
        states: &[
            "(como|donde) (me )?(apunto|inscribo|solicito)",
            "requisitos",
            "lista de espera",
            "adjudicacion",
            "ayudas?",
        ],
        words: &[
            "vivienda protegida",
            "vpo",
            "alquiler social",
            "emvisesa",
            "desahucio",
        ],
        say_nouns: &[
            "vivienda protegida",
            "una VPO",
            "alquiler social",
            "Emvisesa",
            "el registro de demandantes",
        ],
        say_states: &[
            "cómo me apunto",
            "qué requisitos piden",
            "la lista de espera",
            "la adjudicación",
            "las ayudas",
        ],
    },
    Topic {
        category: "tramites",
        intent: "information",
        nouns: &[
            "padr[oó]n",
            "empadronamiento",
            "empadronarme",
            "certificado de empadronamiento",
            "volante",
        ],
        states: &[
            "(como|donde) (lo )?(pido|solicito|saco)",
            "cita previa",
            "que (papeles|documentos) necesito",
            "por internet",
            "urgente",
        ],
        words: &[
            "padron",
            "empadronamiento",
            "empadronar*",
            "volante de empadronamiento",
        ],
        say_nouns: &[
            "el padrón",
            "el empadronamiento",
            "empadronarme",
            "el certificado de empadronamiento",
            "un volante",
        ],
        say_states: &[
            "cómo lo pido",
            "necesito cita previa",
            "qué papeles necesito",
            "se puede por internet",
            "lo necesito urgente",
        ],
    },
    Topic {
        category: "tramites",
        intent: "information",
        nouns: &[
            "ibi",
            "impuesto\\w*",
            "plusval[ií]a",
            "recibos?",
            "multas?",
            "tasas? de basura",
        ],
        states: &[
            "(como|donde) (pago|pagar)",
            "domicili\\w*",
            "fraccionar",
            "recurrir",
            "plazo",
        ],
        words: &["ibi", "impuesto*", "plusvalia", "recibo", "multa"],
        say_nouns: &[
            "el IBI",
            "el impuesto de circulación",
            "la plusvalía",
            "el recibo",
            "una multa",
            "la tasa de basura",
        ],
        say_states: &[
            "cómo lo pago",
            "quiero domiciliarlo",
            "se puede fraccionar",
            "quiero recurrir",
            "hasta cuándo hay plazo",
        ],
    },
    Topic {
        category: "servicios_sociales",
        intent: "information",
        nouns: &[
            "servicios sociales",
            "trabajador(a)? social",
            "ayuda a domicilio",
            "dependencia",
            "comedor social",
            "teleasistencia",
        ],
        states: &[
            "(necesito|pedir|solicitar) (una )?cita",
            "(mi|una) (madre|padre|abuela|vecina) (mayor|sola)",
            "no tengo (para comer|recursos)",
            "informacion",
        ],
        words: &[
            "servicios sociales",
            "trabajadora social",
            "ayuda a domicilio",
            "dependencia",
            "teleasistencia",
        ],
        say_nouns: &[
            "servicios sociales",
            "la trabajadora social",
            "la ayuda a domicilio",
            "la dependencia",
            "el comedor social",
        ],
        say_states: &[
            "necesito una cita",
            "mi madre mayor vive sola",
            "no tengo para comer",
            "quería información",
        ],
    },
    Topic {
        category: "actividades",
        intent: "information",
        nouns: &[
            "talleres?( del distrito)?",
            "cursos?",
            "polideportivo",
            "piscinas? municipal(es)?",
            "bibliotecas?",
            "centro c[ií]vico",
        ],
        states: &[
            "horario",
            "inscripci\\w*",
            "(a que hora|cuando) (abre|cierra)",
            "plazas? libres?",
            "precio",
        ],
        words: &[
            "taller*",
            "curso",
            "polideportivo",
            "piscina municipal",
            "biblioteca",
            "centro civico",
        ],
        say_nouns: &[
            "los talleres del distrito",
            "el curso de yoga",
            "el polideportivo",
            "la piscina municipal",
            "la biblioteca",
            "el centro cívico",
        ],
        say_states: &[
            "el horario",
            "la inscripción",
            "a qué hora abre",
            "si quedan plazas libres",
            "el precio",
        ],
    },
    Topic {
        category: "seguridad",
        intent: "incident",
        nouns: &[
            "robos?",
            "peleas?",
            "vandalismo",
            "okupas?",
            "trapicheo",
            "polic[ií]a local",
        ],
        states: &[
            "(han|estan) (robando|rompiendo|peleando)",
            "todas las noches",
            "en el portal",
            "(llamar|venga) (a )?la policia",
        ],
        words: &["robo", "pelea*", "vandalismo", "okupas", "policia local"],
        say_nouns: &[
            "robos",
            "una pelea",
            "vandalismo",
            "okupas",
            "la policía local",
        ],
        say_states: &[
            "están rompiendo los coches",
            "todas las noches",
            "en el portal",
            "que venga la policía",
        ],
    },
    Topic {
        category: "emergencias",
        intent: "emergency",
        nouns: &[
            "incendio",
            "fuego",
            "humo",
            "herid[oa]s?",
            "accidente",
            "escape de gas",
            "desmayad[oa]",
        ],
        states: &[
            "(ahora|ahora mismo|ya)",
            "urgente",
            "ambulancia",
            "(no )?respira",
            "sale (mucho )?humo",
        ],
        words: &["incendio", "fuego", "humo", "herido*", "escape de gas"],
        say_nouns: &[
            "un incendio",
            "fuego",
            "mucho humo",
            "un herido",
            "un accidente",
            "un escape de gas",
        ],
        say_states: &[
            "ahora mismo",
            "es urgente",
            "manden una ambulancia",
            "no respira",
            "sale mucho humo",
        ],
    },
];

/// Places of Seville: (as citizens write them, as a rule's word).
const PLACES: &[(&str, &str)] = &[
    ("en Triana", "triana"),
    ("en la Macarena", "macarena"),
    ("en Nervión", "nervion"),
    ("en Los Remedios", "los remedios"),
    ("en Bellavista", "bellavista"),
    ("en Cerro-Amate", "cerro amate"),
    ("en el Polígono Sur", "poligono sur"),
    ("en San Pablo", "san pablo"),
    ("en Santa Justa", "santa justa"),
    ("en la Alameda", "alameda"),
    ("en la calle Feria", "calle feria"),
    (
        "en la avenida de la Constitución",
        "avenida de la constitucion",
    ),
    ("en la calle Betis", "calle betis"),
    ("en San Jacinto", "san jacinto"),
    ("en el Tardón", "tardon"),
    ("en Pino Montano", "pino montano"),
    ("en Torreblanca", "torreblanca"),
    ("en Sevilla Este", "sevilla este"),
    ("en Los Bermejales", "bermejales"),
    ("en la plaza del Duque", "plaza del duque"),
    ("en la calle Sierpes", "calle sierpes"),
    ("en Heliópolis", "heliopolis"),
    ("en el Porvenir", "porvenir"),
    ("en la Cartuja", "cartuja"),
    ("en Palmete", "palmete"),
    ("en Rochelambert", "rochelambert"),
    ("en Santa Clara", "santa clara"),
    ("en Tres Barrios", "tres barrios"),
    ("en el Cerezo", "cerezo"),
    ("en la Ronda de Triana", "ronda de triana"),
    ("en la calle Asunción", "calle asuncion"),
    ("en la calle Tetuán", "calle tetuan"),
    ("en la Encarnación", "encarnacion"),
    ("en San Bernardo", "san bernardo"),
    ("en la Barzola", "barzola"),
    ("en Parque Alcosa", "parque alcosa"),
    ("en el Juncal", "juncal"),
    ("en Ciudad Jardín", "ciudad jardin"),
    ("en la calle Torneo", "calle torneo"),
    ("en la avenida de la Paz", "avenida de la paz"),
    ("en Begoña", "begoña"),
    ("en el barrio de Los Pájaros", "los pajaros"),
];

const GREETINGS: &[&str] = &[
    "",
    "Hola, ",
    "Buenas tardes, ",
    "Buenos días. ",
    "Hola buenas, ",
    "Perdone, ",
    "Holaaa ",
    "Buenas noches 🙏 ",
    "Hola!! ",
];
const INTROS: &[&str] = &[
    "",
    "quería avisar de que ",
    "les escribo porque ",
    "os aviso que ",
    "no es la primera vez que lo digo: ",
    "xq nadie hace nada? ",
    "por favor, ",
    "mire, ",
    "una vecina me dice que ",
];
const TAILS: &[&str] = &[
    ". Gracias",
    ". Un saludo",
    " desde hace una semana",
    ". Es un peligro para los niños",
    " 😡",
    " y nadie viene",
    ", porfa arréglenlo",
    ". Llevamos así desde el lunes!!",
    " 👍",
    ". Mi número de portal es el 14",
    ", a ver si alguien lo mira",
    ". Ya lo dije la semana pasada y sigue igual",
];
const QUESTION_OPENERS: &[&str] = &[
    "¿Me pueden decir ",
    "Buenas, quería saber ",
    "Hola, una pregunta: ",
    "Perdone, ¿sabe ",
    "Por favor, necesito saber ",
];
const OFF_TOPIC: &[&str] = &[
    "Muchas gracias por la atención, ya está todo arreglado 👍",
    "Hola, os escribo para dar las gracias al equipo que vino ayer, muy amables",
    "Buenas tardes, ¿este es el número del Ayuntamiento de Sevilla? Gracias",
    "Holaaa, ¿hay alguien? Llevo un rato escribiendo y nadie contesta 😅",
    "Feliz Navidad a todos los trabajadores del 010, sois unos cracks",
    "Perdone, me he equivocado de número, disculpe las molestias",
    "Buenos días, ¿el lunes es festivo en Sevilla? Es para organizarme",
];

const CHANNELS: &[ChannelKind] = &[
    ChannelKind::Whatsapp,
    ChannelKind::Whatsapp,
    ChannelKind::Whatsapp,
    ChannelKind::Sms,
    ChannelKind::App,
    ChannelKind::App,
    ChannelKind::Web,
    ChannelKind::Voice,
    ChannelKind::Email,
];

/// Whether a pattern of a generated rule is a regular expression or a word list entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PatternKind {
    /// From `any_text`, `all_text`, `none_text`.
    Regex,
    /// From `any_words`, `all_words`, `none_words`.
    Words,
}

/// A generated rule set: the TOML file, and every distinct pattern it contains.
#[derive(Debug, Clone)]
pub struct SyntheticRules {
    /// The rule file.
    pub toml: String,
    /// Every distinct pattern, as written in the file.
    pub patterns: BTreeSet<(PatternKind, String)>,
    /// Number of rules.
    pub len: usize,
}

impl SyntheticRules {
    /// The distinct patterns as plain regular expressions over the *normalised* text, in the
    /// dialect shared by Rust `regex`, Python `re`, JavaScript `RegExp` and Hyperscan: regexes
    /// folded as civic-router folds them, words and phrases as `(?:^| )phrase(?: |$)` (no
    /// right boundary for a trailing `*`). This is what the peer engines get, so every engine
    /// answers exactly the same question.
    ///
    /// ```
    /// let set = civic_router_benches::rules(20, 1);
    /// let pats = set.engine_patterns(&civic_router::text::Normalizer::spanish());
    /// assert!(pats.iter().all(|p| p.is_ascii()));
    /// assert!(pats.iter().any(|p| p.starts_with("(?:^| )")));
    /// ```
    pub fn engine_patterns(&self, normalizer: &Normalizer) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        for (kind, written) in &self.patterns {
            out.insert(engine_pattern(*kind, written, normalizer));
        }
        out.into_iter().collect()
    }
}

/// One pattern as a plain regular expression over normalised text (see
/// [`SyntheticRules::engine_patterns`]).
///
/// ```
/// use civic_router_benches::{engine_pattern, PatternKind};
/// let n = civic_router::text::Normalizer::spanish();
/// assert_eq!(engine_pattern(PatternKind::Words, "Cañería", &n), "(?:^| )canyeria(?: |$)");
/// assert_eq!(engine_pattern(PatternKind::Words, "farol*", &n), "(?:^| )farol");
/// assert_eq!(engine_pattern(PatternKind::Regex, r"\bsocav[oó]n\b", &n), r"\bsocav[oo]n\b");
/// ```
pub fn engine_pattern(kind: PatternKind, written: &str, normalizer: &Normalizer) -> String {
    match kind {
        PatternKind::Regex => fold_regex(written).expect("generated regexes fold"),
        PatternKind::Words => {
            let (body, prefix) = match written.strip_suffix('*') {
                Some(b) => (b, true),
                None => (written, false),
            };
            let phrase = normalizer.normalize_phrase(body);
            let mut re = String::from("(?:^| )");
            for c in phrase.chars() {
                if "\\.+*?()|[]{}^$".contains(c) {
                    re.push('\\');
                }
                re.push(c);
            }
            if !prefix {
                re.push_str("(?: |$)");
            }
            re
        }
    }
}

struct RuleWriter<'a> {
    out: &'a mut String,
    patterns: &'a mut BTreeSet<(PatternKind, String)>,
}

impl RuleWriter<'_> {
    fn list(&mut self, key: &str, kind: PatternKind, items: &[String]) {
        let _ = write!(self.out, "{key} = [");
        for (i, p) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            // TOML literal strings: no escapes, so regexes stay as written
            let _ = write!(self.out, "'{p}'");
            self.patterns.insert((kind, p.clone()));
        }
        self.out.push_str("]\n");
    }
}

fn alternation(rng: &mut Rng, alts: &[&str], min: usize, max: usize) -> String {
    let k = min + rng.below(max - min + 1);
    let chosen = rng.sample(alts, k.min(alts.len()));
    let group = if rng.chance(0.3) { "(?:" } else { "(" };
    if chosen.len() == 1 {
        format!("\\b{}\\b", chosen[0])
    } else {
        let body: Vec<&str> = chosen.into_iter().copied().collect();
        format!("\\b{group}{})\\b", body.join("|"))
    }
}

/// A synthetic rule set of `n` rules, deterministic in `seed`, in `all_match` mode.
///
/// Ten families of rules, in turn: incident rules (a thing and its state, sometimes a place
/// and an `unless`), proximity patterns, questions about a service in a place, word lists with
/// prefix words and exclusions, and nested `any`/`all` rules restricted to some channels.
///
/// ```
/// let set = civic_router_benches::rules(1000, 42);
/// assert_eq!(set.len, 1000);
/// assert!(set.patterns.len() > 1000);
/// ```
pub fn rules(n: usize, seed: u64) -> SyntheticRules {
    let mut rng = Rng::new(seed);
    let mut toml = String::with_capacity(n * 300);
    let mut patterns = BTreeSet::new();
    toml.push_str("# synthetic rule set generated by civic-router-benches\nmode = \"all_match\"\n");
    for i in 0..n {
        let t = rng.pick(TOPICS);
        let family = i % 10;
        let _ = write!(
            toml,
            "\n[[rule]]\nid = \"r{i:04}-{}\"\npriority = {}\n",
            t.category,
            rng.below(20) * 5
        );
        let mut w = RuleWriter {
            out: &mut toml,
            patterns: &mut patterns,
        };
        match family {
            // a thing and its state
            0..=2 => {
                let noun = alternation(&mut rng, t.nouns, 1, 4);
                let state = alternation(&mut rng, t.states, 2, 4);
                w.list("when.any_text", PatternKind::Regex, &[noun]);
                w.list("when.all_text", PatternKind::Regex, &[state]);
                if rng.chance(0.4) {
                    let places: Vec<String> = {
                        let k = 1 + rng.below(3);
                        rng.sample(PLACES, k)
                    }
                    .into_iter()
                    .map(|p| p.1.to_string())
                    .collect();
                    w.list("when.any_words", PatternKind::Words, &places);
                }
                if rng.chance(0.3) {
                    w.list(
                        "unless.any_words",
                        PatternKind::Words,
                        &["ya esta arreglad*".into(), "gracias por arreglar".into()],
                    );
                }
            }
            // proximity: the thing near its state, in one regex
            3 => {
                let noun = alternation(&mut rng, t.nouns, 2, 4);
                let state = alternation(&mut rng, t.states, 2, 3);
                let gap = 10 + rng.below(4) * 10;
                w.list(
                    "when.any_text",
                    PatternKind::Regex,
                    &[format!("{noun}.{{0,{gap}}}{state}")],
                );
                if rng.chance(0.5) {
                    w.list(
                        "when.none_text",
                        PatternKind::Regex,
                        &["\\b(ya|por fin) (esta|estan) (arreglad|reparad)[oa]s?\\b".into()],
                    );
                }
            }
            // a question about a thing in a place
            4 | 5 => {
                let q = alternation(
                    &mut rng,
                    &[
                        "como",
                        "donde",
                        "cuando",
                        "a que hora",
                        "horario",
                        "informacion",
                        "quer[ií]a saber",
                        "me pueden decir",
                    ],
                    2,
                    4,
                );
                let noun = alternation(&mut rng, t.nouns, 1, 3);
                w.list(
                    "when.any_text",
                    PatternKind::Regex,
                    &[format!("{q}.{{0,40}}{noun}"), format!("{noun}.{{0,40}}\\?")],
                );
                let places: Vec<String> = {
                    let k = 1 + rng.below(2);
                    rng.sample(PLACES, k)
                }
                .into_iter()
                .map(|p| p.1.to_string())
                .collect();
                w.list("when.any_words", PatternKind::Words, &places);
            }
            // word lists
            6 | 7 => {
                let words: Vec<String> = {
                    let k = 2 + rng.below(3);
                    rng.sample(t.words, k)
                }
                .into_iter()
                .map(|w| w.to_string())
                .collect();
                w.list("when.any_words", PatternKind::Words, &words);
                if rng.chance(0.5) {
                    let place = rng.pick(PLACES).1.to_string();
                    w.list("when.all_words", PatternKind::Words, &[place]);
                }
                if rng.chance(0.4) {
                    w.list(
                        "when.none_words",
                        PatternKind::Words,
                        &["gracias".into(), "ya funciona".into()],
                    );
                }
            }
            // a state with a negation near it, and the thing as words
            8 => {
                let state = alternation(&mut rng, t.states, 1, 3);
                w.list(
                    "when.any_text",
                    PatternKind::Regex,
                    &[format!(
                        "\\b(no|nunca|nadie|sigue|otra vez)\\b.{{0,25}}{state}"
                    )],
                );
                let words: Vec<String> = rng
                    .sample(t.words, 2)
                    .into_iter()
                    .map(|w| w.to_string())
                    .collect();
                w.list("when.all_words", PatternKind::Words, &words[..1]);
            }
            // nested any, restricted channels
            _ => {
                let a = alternation(&mut rng, t.nouns, 2, 3);
                let b = alternation(&mut rng, t.states, 2, 3);
                let words: Vec<String> = rng
                    .sample(t.words, 2)
                    .into_iter()
                    .map(|w| w.to_string())
                    .collect();
                w.out
                    .push_str("when.channel = [\"whatsapp\", \"sms\", \"app\", \"web\"]\n");
                let _ = writeln!(
                    w.out,
                    "when.any = [{{ any_text = ['{a}', '{b}'] }}, {{ all_words = ['{}', '{}'] }}]",
                    words[0], words[1]
                );
                w.patterns.insert((PatternKind::Regex, a));
                w.patterns.insert((PatternKind::Regex, b));
                w.patterns.insert((PatternKind::Words, words[0].clone()));
                w.patterns.insert((PatternKind::Words, words[1].clone()));
            }
        }
        let intent = if matches!(family, 4 | 5) {
            "information"
        } else {
            t.intent
        };
        let mut then = format!("intent = \"{intent}\", category = \"{}\"", t.category);
        if rng.chance(0.3) {
            let _ = write!(then, ", tags = [\"t{}\"]", rng.below(30));
        }
        if t.intent == "emergency" {
            then.push_str(", priority = \"urgent\", stop = true");
        }
        let _ = writeln!(toml, "then = {{ {then} }}");
    }
    SyntheticRules {
        toml,
        patterns,
        len: n,
    }
}

fn topic_sentence(rng: &mut Rng, t: &Topic) -> String {
    let noun = rng.pick(t.say_nouns);
    let state = rng.pick(t.say_states);
    let place = rng.pick(PLACES).0;
    if t.intent == "information" {
        if rng.chance(0.7) {
            format!("{}{state}, {noun} {place}?", rng.pick(QUESTION_OPENERS))
        } else {
            format!("es sobre {noun} {place}: {state}")
        }
    } else {
        match rng.below(3) {
            0 => format!("{noun} {place} {state}"),
            1 => format!("{noun} {state} {place}"),
            _ => format!("{place}, {noun} {state}"),
        }
    }
}

/// `n` synthetic citizen messages, deterministic in `seed`: complaints and questions about
/// the topics the rules cover (90%) and off-topic messages (10%), 60–200 characters.
///
/// ```
/// let m = civic_router_benches::messages(3, 9);
/// assert_eq!(m.len(), 3);
/// assert_eq!(m[0].id, "m000000");
/// ```
pub fn messages(n: usize, seed: u64) -> Vec<Message> {
    let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(17));
    (0..n)
        .map(|i| {
            let mut text = if rng.chance(0.1) {
                rng.pick(OFF_TOPIC).to_string()
            } else {
                let t = rng.pick(TOPICS);
                let mut s = format!(
                    "{}{}{}",
                    rng.pick(GREETINGS),
                    rng.pick(INTROS),
                    topic_sentence(&mut rng, t)
                );
                if rng.chance(0.25) {
                    // a second subject in the same message
                    let t2 = rng.pick(TOPICS);
                    s.push_str(". Y también ");
                    s.push_str(&topic_sentence(&mut rng, t2));
                }
                s
            };
            while text.chars().count() < 60 {
                let tail: &&str = rng.pick(TAILS);
                text.push_str(tail);
            }
            if rng.chance(0.5) && text.chars().count() < 150 {
                let tail: &&str = rng.pick(TAILS);
                text.push_str(tail);
            }
            if text.chars().count() > 200 {
                text = text.chars().take(200).collect();
            }
            Message::new(format!("m{i:06}"), *rng.pick(CHANNELS), text)
        })
        .collect()
}

/// A configuration for [`civic_router::Router`] whose categories cover the synthetic rules,
/// with the rules in the file `rules.toml` (load it with
/// [`Config::from_toml_with_loader`](civic_router::config::Config::from_toml_with_loader)).
///
/// ```
/// use civic_router::config::Config;
/// let rules = civic_router_benches::rules(30, 3);
/// let cfg = Config::from_toml_with_loader(&civic_router_benches::router_config(), "bench.toml",
///     &|_| Ok(rules.toml.clone())).unwrap();
/// let router = civic_router::Router::from_config(cfg).unwrap();
/// let d = router.route(&civic_router_benches::messages(1, 3)[0]).unwrap();
/// assert!(!d.department.is_empty());
/// ```
pub fn router_config() -> String {
    let mut cats: Vec<&str> = TOPICS.iter().map(|t| t.category).collect();
    cats.push("general");
    cats.sort_unstable();
    cats.dedup();
    let mut s = String::from(
        "[router]\nname = \"bench\"\nrules = [\"rules.toml\"]\ndefault_intent = \"incident\"\n\n[categories]\n",
    );
    for c in &cats {
        let _ = writeln!(s, "{c} = \"{c}\"");
    }
    for c in &cats {
        let _ = write!(s, "\n[[department]]\nid = \"d_{c}\"\nname = \"{c}\"\n");
    }
    s.push_str("\n[routing]\ndefault = \"d_general\"\nemergency = \"d_emergencias\"\n");
    for c in &cats {
        let _ = writeln!(s, "category.{c} = \"d_{c}\"");
    }
    s
}

/// Writes the workload for the peer comparison into `dir`: `rules.toml`, `patterns.json` (the
/// distinct patterns as plain regexes over normalised text, see
/// [`SyntheticRules::engine_patterns`]), `messages.jsonl` (the raw messages) and
/// `normalized.txt` (each message's normalised text, one a line).
///
/// ```
/// let dir = std::env::temp_dir().join(format!("civic-bench-doc-{}", std::process::id()));
/// civic_router_benches::dump(&dir, &civic_router_benches::rules(10, 1),
///     &civic_router_benches::messages(5, 1)).unwrap();
/// let lines = std::fs::read_to_string(dir.join("normalized.txt")).unwrap();
/// assert_eq!(lines.lines().count(), 5);
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn dump(dir: &Path, rules: &SyntheticRules, messages: &[Message]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let normalizer = Normalizer::spanish();
    std::fs::write(dir.join("rules.toml"), &rules.toml)?;
    let pats = rules.engine_patterns(&normalizer);
    std::fs::write(
        dir.join("patterns.json"),
        serde_json::to_string_pretty(&pats)?,
    )?;
    let mut jsonl = std::io::BufWriter::new(std::fs::File::create(dir.join("messages.jsonl"))?);
    let mut norm = std::io::BufWriter::new(std::fs::File::create(dir.join("normalized.txt"))?);
    for m in messages {
        serde_json::to_writer(&mut jsonl, m)?;
        jsonl.write_all(b"\n")?;
        norm.write_all(normalizer.normalize(&m.text).as_str().as_bytes())?;
        norm.write_all(b"\n")?;
    }
    jsonl.flush()?;
    norm.flush()
}
