//! Sizing the event's interfaces: contexts, user, request, SDK and debug images.

use sentry_minimal::User;

use super::{Sizer, ADDR, RFC3339};
use crate::protocol::{ClientSdkInfo, Context, DebugImage, Request};

impl Sizer {
    pub(super) fn context(&mut self, context: &Context) {
        // Typed contexts are written with their "type"; so may an `Other` map be.
        self.field("type");
        self.add(9);
        match context {
            Context::Os(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("version", c.version.as_deref()),
                    ("build", c.build.as_deref()),
                    ("kernel_version", c.kernel_version.as_deref()),
                    ("raw_description", c.raw_description.as_deref()),
                ]);
                self.bag(&c.other);
            }
            Context::Runtime(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("version", c.version.as_deref()),
                    ("build", c.build.as_deref()),
                    ("raw_description", c.raw_description.as_deref()),
                ]);
                self.bag(&c.other);
            }
            Context::Device(c) => {
                self.strings_of(&[
                    ("name", c.name.as_deref()),
                    ("family", c.family.as_deref()),
                    ("model", c.model.as_deref()),
                    ("model_id", c.model_id.as_deref()),
                    ("arch", c.arch.as_deref()),
                    ("cpu_description", c.cpu_description.as_deref()),
                ]);
                for (name, present) in [
                    ("processor_count", c.processor_count.is_some()),
                    ("processor_frequency", c.processor_frequency.is_some()),
                    ("memory_size", c.memory_size.is_some()),
                    ("free_memory", c.free_memory.is_some()),
                    ("usable_memory", c.usable_memory.is_some()),
                ] {
                    self.number(name, present);
                }
                if c.boot_time.is_some() {
                    self.field("boot_time");
                    self.add(RFC3339);
                }
                self.bag(&c.other);
            }
            Context::App(c) => {
                if c.app_start_time.is_some() {
                    self.field("app_start_time");
                    self.add(RFC3339);
                }
                self.strings_of(&[
                    ("device_app_hash", c.device_app_hash.as_deref()),
                    ("build_type", c.build_type.as_deref()),
                    ("app_identifier", c.app_identifier.as_deref()),
                    ("app_name", c.app_name.as_deref()),
                    ("app_version", c.app_version.as_deref()),
                    ("app_build", c.app_build.as_deref()),
                ]);
                self.number("app_memory", c.app_memory.is_some());
                self.bag(&c.other);
            }
            Context::Trace(c) => {
                self.field("trace_id");
                self.add(34);
                self.field("span_id");
                self.add(18);
                if c.parent_span_id.is_some() {
                    self.field("parent_span_id");
                    self.add(18);
                }
                self.opt("op", c.op.as_deref());
                if let Some(status) = c.status {
                    self.field("status");
                    self.str(status.as_str());
                }
                self.opt("origin", c.origin.as_deref());
                if !c.data.is_empty() {
                    self.field("data");
                    self.bag(&c.data);
                }
                self.bag(&c.other);
            }
            Context::Other(map) => self.bag(map),
        }
    }

    pub(super) fn strings_of(&mut self, fields: &[(&str, Option<&str>)]) {
        for (name, value) in fields {
            self.opt(name, *value);
        }
    }

    pub(super) fn user(&mut self, user: &User) {
        self.strings_of(&[
            ("id", user.id.as_deref()),
            ("email", user.email.as_deref()),
            ("username", user.username.as_deref()),
            ("ip_address", user.ip_address.as_deref()),
        ]);
        // The other keys are written inline, in the user's own braces.
        self.bag(&user.other);
    }

    pub(super) fn request(&mut self, request: &Request) {
        self.add(2);
        self.strings_of(&[
            ("method", request.method.as_deref()),
            ("url", request.url.as_deref()),
            ("query_string", request.query_string.as_deref()),
            ("cookies", request.cookies.as_deref()),
        ]);
        if let Some(data) = &request.data {
            self.field("data");
            self.value(data, 0);
        }
        for (name, map) in [("headers", &request.headers), ("env", &request.env)] {
            if !map.is_empty() {
                self.field(name);
                self.add(2 + map.len() * 2);
                for (key, value) in map {
                    self.str(key);
                    self.str(value);
                }
            }
        }
    }

    pub(super) fn sdk(&mut self, sdk: &ClientSdkInfo) {
        self.add(2);
        self.field("name");
        self.str(&sdk.name);
        self.field("version");
        self.str(&sdk.version);
        self.field("integrations");
        self.add(2 + sdk.integrations.len());
        for name in &sdk.integrations {
            self.str(name);
        }
        self.field("packages");
        self.add(2 + sdk.packages.len());
        for package in &sdk.packages {
            self.add(2);
            self.field("name");
            self.str(&package.name);
            self.field("version");
            self.str(&package.version);
        }
    }

    pub(super) fn debug_image(&mut self, image: &DebugImage) {
        match image {
            DebugImage::Elf(native) | DebugImage::MachO(native) | DebugImage::Pe(native) => {
                self.add(2);
                self.field("type");
                self.add(7);
                self.field("code_file");
                self.str(&native.code_file);
                self.field("debug_id");
                self.str(&native.debug_id);
                self.opt("code_id", native.code_id.as_deref());
                self.opt("debug_file", native.debug_file.as_deref());
                self.field("image_addr");
                self.add(ADDR);
                self.number("image_size", true);
                if native.image_vmaddr.is_some() {
                    self.field("image_vmaddr");
                    self.add(ADDR);
                }
                self.opt("arch", native.arch.as_deref());
            }
            DebugImage::Other(map) => self.bag(map),
        }
    }
}
