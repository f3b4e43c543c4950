using System;
using Microsoft.CodeAnalysis;

namespace Res2Net.Generator
{
    /// <summary>Every error the generator reports about a spec. Messages say what was found and what is expected.</summary>
    internal static class DiagnosticDescriptors
    {
        private const string Category = "Res2Net.Spec";

        public static readonly DiagnosticDescriptor MalformedJson = Error(
            "RN0001", "Malformed network spec", "{0} is not valid JSON: {1}");

        public static readonly DiagnosticDescriptor UnknownField = Error(
            "RN0002", "Unknown spec field", "Unknown field '{0}' in network spec; expected one of: {1}");

        public static readonly DiagnosticDescriptor MissingField = Error(
            "RN0003", "Missing spec field", "Network spec is missing required field '{0}' ({1})");

        public static readonly DiagnosticDescriptor WrongType = Error(
            "RN0004", "Spec field has the wrong type", "Field '{0}' must be {1}, but is {2}");

        public static readonly DiagnosticDescriptor UnsupportedDepth = Error(
            "RN0005", "Unsupported depth", "Field 'depth' is {0}; Res2Net is defined for depth 50, 101 or 152 (or give 'blocks' per stage instead)");

        public static readonly DiagnosticDescriptor ScalesTooSmall = Error(
            "RN0006", "Scales must be at least 2", "Field 'scales' is {0}; a Bottle2neck needs scales >= 2 (scales = 1 is a plain ResNet)");

        public static readonly DiagnosticDescriptor ZeroWidth = Error(
            "RN0007", "Split width is zero", "base_width {0} with base_channels {1} gives floor({2} * {0} / {1}) = 0 channels per split in stage 1; raise base_width");

        public static readonly DiagnosticDescriptor InputTooSmall = Error(
            "RN0008", "Input too small", "input_size [{0}, {1}] is too small: each side must be at least {2}, the network's total stride, so that layer4 sees at least one stride of real input");

        public static readonly DiagnosticDescriptor InvalidValue = Error(
            "RN0009", "Invalid spec value", "Field '{0}' is {1}; expected {2}");

        public static readonly DiagnosticDescriptor DuplicateName = Error(
            "RN0010", "Duplicate network", "The {0} {1} is already used by {2} as its {3}; Res2NetModels.Create takes a name or a class name, so no two networks may share one (class names also may not differ only in case)");

        public static readonly DiagnosticDescriptor DuplicateField = Error(
            "RN0011", "Duplicate spec field", "Field '{0}' appears more than once");

        public static readonly DiagnosticDescriptor NetworkTooLarge = Error(
            "RN0012", "Network too large", "The network is too large to compile: {0}; reduce input_size, the channels or the blocks");

        public static readonly DiagnosticDescriptor InvalidNamespace = Error(
            "RN0013", "Invalid Res2NetNamespace", "The MSBuild property Res2NetNamespace is {0}; expected a C# namespace: identifiers of ASCII letters, digits and '_', not keywords, joined by dots");

        public static DiagnosticDescriptor ById(string id) => id switch
        {
            "RN0001" => MalformedJson,
            "RN0002" => UnknownField,
            "RN0003" => MissingField,
            "RN0004" => WrongType,
            "RN0005" => UnsupportedDepth,
            "RN0006" => ScalesTooSmall,
            "RN0007" => ZeroWidth,
            "RN0008" => InputTooSmall,
            "RN0009" => InvalidValue,
            "RN0010" => DuplicateName,
            "RN0011" => DuplicateField,
            "RN0012" => NetworkTooLarge,
            "RN0013" => InvalidNamespace,
            _ => throw new ArgumentOutOfRangeException(nameof(id), id, "unknown diagnostic id"),
        };

        private static DiagnosticDescriptor Error(string id, string title, string message) =>
            new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);
    }
}
