using System.Buffers.Binary;
using System.Text;

namespace Res2Net.Tests.Checkpoints;

/// <summary>
/// Finds an entry's bytes inside a zip file by reading the headers as PKWARE's APPNOTE lays them out (central
/// directory, then the entry's local header), so that tests can damage exactly one entry's data.
/// </summary>
internal static class ZipEntryBytes
{
    /// <summary>Where the stored data of <paramref name="name"/> starts, its length, and the CRC-32 the directory records.</summary>
    public static (int Offset, int Length, uint Crc) Locate(byte[] zip, string name)
    {
        // End of central directory: signature 0x06054b50, then (at +16) the directory's offset and (at +10) its entry count.
        int end = zip.Length - 22;
        while (end >= 0 && BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end)) != 0x06054b50) end--;
        if (end < 0) throw new ArgumentException("no end-of-central-directory record");
        int entries = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(end + 10));
        int at = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        for (int i = 0; i < entries; i++)
        {
            // Central directory header: signature 0x02014b50; method +10, CRC +16, compressed size +20, name length +28,
            // extra length +30, comment length +32, local header offset +42, name +46.
            if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at)) != 0x02014b50) throw new ArgumentException($"no central header at {at}");
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 32));
            if (Encoding.UTF8.GetString(zip, at + 46, nameLength) == name)
            {
                if (BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(at + 10)) != 0) throw new ArgumentException($"{name} is not stored uncompressed");
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 16));
                int size = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 20));
                int local = (int)BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(at + 42));
                // Local header: signature 0x04034b50, name length +26, extra length +28, data after the 30 fixed bytes.
                if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(local)) != 0x04034b50) throw new ArgumentException($"no local header at {local}");
                int data = local + 30 + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 26)) + BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(local + 28));
                return (data, size, crc);
            }
            at += 46 + nameLength + extraLength + commentLength;
        }
        throw new ArgumentException($"no entry {name}");
    }

    /// <summary>
    /// CRC-32 as zip defines it (reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF), bit by bit: a
    /// reference independent of the product's table-driven code.
    /// </summary>
    public static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
