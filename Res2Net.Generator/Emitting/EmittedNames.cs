using System;
using System.Collections.Generic;

namespace Res2Net.Generator.Emitting
{
    /// <summary>
    /// The names generated code declares or refers to by their simple name. A network class may not take one:
    /// inside the generated namespace a class named <c>Gemm</c> hides the kernel every layer calls, one named
    /// <c>Res2NetModels</c> is declared twice, one named like a member of itself is an error (CS0542).
    /// Names that depend on the network (layer methods, buffers, layer types) are checked against the compiled program instead
    /// (<see cref="Res2NetGenerator.MemberNames"/>).
    /// </summary>
    /// <remarks>Tests keep this list complete: every name a generated file binds to, and every member of <c>CompiledNetwork</c>.</remarks>
    internal static class EmittedNames
    {
        private static readonly HashSet<string> Names = new(StringComparer.Ordinal)
        {
            // Types the emitted code names without qualification.
            "CompiledNetwork", "NetworkInfo", "LayerInfo", "StateDictEntry", "FeatureInfo", "WeightBinder", "FeatureCapture",
            "Gemm", "Pooling", "Linear", "UnknownModelException", "Res2NetModels", "GraphInfo", "GraphValue", "GraphNode",
            "LayerKind", "LayerFusions", "LayerSchedule", "ConvKernels", "ThreadSplit", "GemmInput", "GemmRemainder",
            "IDirectConvLayer", "IGemmConvLayer", "System", "VectorWidth",
            // The device forward's (X.Gpu.g.cs) and its registry's.
            "DeviceProgram", "DeviceRun", "IConvShape", "IPoolShape", "CudaWideTile", "CudaNarrowTile", "CpuTile", "Res2NetDevicePrograms",
            "Names", "Run", "Launch", "Launches", "InputElements", "Max", "IncludePad", "Channels",
            // Members each network class declares, and the registry's.
            "ModelName", "InputHeight", "InputWidth", "NumClasses", "ParamCount", "FlopCount", "ArenaFloats", "PackedFloats",
            "Description", "Bind", "ForwardImage", "CreateReplica", "All", "Create", "RunLayer", "ForwardAvx512", "ForwardAvx2",
            "s_avx512",
            // Members of the layer types (a class named like one would hide it inside them).
            "OutChannels", "InChannels", "Height", "Width", "Kernel", "Stride", "Padding", "OutHeight", "OutWidth", "Summed",
            "TailChannel", "TailStride", "TailHeight", "TailWidth", "Residual", "Relu", "Split", "Tiles", "FiveVectorTiles", "Input", "PackB", "Remainder",
            // Members a network class inherits from CompiledNetwork and object.
            "Packed", "Arena", "Info", "IsLoaded", "CheckpointSource", "Load", "Forward", "ClassifierWeights", "ReplayLayer",
            "Backend", "AttachBackend", "DetachBackend",
            "ToString", "Equals", "ReferenceEquals", "GetHashCode", "GetType", "MemberwiseClone", "Finalize",
        };

        public static bool IsTaken(string name) => Names.Contains(name);
    }
}
