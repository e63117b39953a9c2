//! (being written) dns parser.

use crate::{AppEvents, Probe};
use vedette_eve::JsonWriter;
use vedette_types::Direction;

/// Limits of the dns parser.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {}

/// Per-flow dns state.
#[derive(Debug, Default)]
pub struct State {}

/// One dns transaction.
#[derive(Debug)]
pub struct Tx {}

impl State {
    /// A fresh state.
    pub fn new(_limits: &Limits) -> Self {
        State {}
    }
    /// Takes the next in-order bytes of one direction.
    pub fn parse(&mut self, _dir: Direction, _data: &[u8], _events: &mut AppEvents) {}
    /// Notes missing bytes.
    pub fn gap(&mut self, _dir: Direction, _len: u64, _events: &mut AppEvents) {}
    /// Hands over transactions ready to log.
    pub fn drain(&mut self, _at_end: bool, _f: &mut dyn FnMut(&Tx)) {}
}

impl Tx {
    /// Writes the EVE fields after the common header.
    pub fn write_eve(&self, _w: &mut JsonWriter<'_>) {}
}

/// Probes the first bytes of a direction.
pub fn probe(_data: &[u8], _dir: Direction) -> Probe {
    Probe::No
}
